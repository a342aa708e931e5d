import CHDF5Shim
import Foundation

/// Library set-up and status handling for ``HDF5File``, the only type that calls HDF5: `check`
/// turns a negative return into an ``HDF5Error`` carrying HDF5's error stack.
enum CHDF5 {
    /// Prepares the library once per process: no clean-up at process exit.
    ///
    /// Why: the thread-safe library keeps an error stack per thread that ever called it, freed
    /// only when that thread ends; Swift's pool threads are still alive at exit, so the
    /// library's exit hook cannot empty its free lists and prints "infinite loop closing
    /// library". Every file is closed by its `HDF5File` before a process can exit normally, so
    /// the hook has nothing to flush; the operating system frees the rest.
    private static let initialized: Void = {
        H5dont_atexit()
        _ = H5open()
    }()

    /// Turns off HDF5's automatic printing of error stacks (we report them ourselves) for the
    /// calling thread. Call before HDF5 work: in the thread-safe build each thread has its own
    /// default error stack, so a setting made once on one thread leaves the others printing.
    static func quiet() {
        initialized
        H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
    }

    /// Returns `id` if it is valid (≥ 0), else throws with HDF5's error stack.
    @discardableResult
    static func check<T: BinaryInteger>(_ id: T, _ function: String, path: String, context: @autoclosure () -> String) throws -> T {
        guard id < 0 else { return id }
        throw HDF5Error(path: path, function: function, message: errorStack(), context: context())
    }

    /// The descriptions on HDF5's current error stack.
    static func errorStack() -> String {
        final class Collector { var lines: [String] = [] }
        let collector = Collector()
        let pointer = Unmanaged.passUnretained(collector).toOpaque()
        H5Ewalk2(
            hid_t(H5E_DEFAULT), H5E_WALK_DOWNWARD,
            { _, error, data in
                guard let error, let data else { return 0 }
                let collector = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
                let function = error.pointee.func_name.map { String(cString: $0) } ?? "?"
                let description = error.pointee.desc.map { String(cString: $0) } ?? ""
                collector.lines.append(description.isEmpty ? function : "\(function): \(description)")
                return 0
            }, pointer)
        H5Eclear2(hid_t(H5E_DEFAULT))
        return collector.lines.isEmpty ? "HDF5 error" : collector.lines.joined(separator: "; ")
    }
}

extension PixelKind {
    /// HDF5's native type for pixels of this kind (the same is used in files, as h5py does).
    var hdf5NativeType: hid_t {
        switch self {
        case .uint8: return butler_h5t_native_uint8()
        case .int16: return butler_h5t_native_int16()
        case .uint16: return butler_h5t_native_uint16()
        case .int32: return butler_h5t_native_int32()
        case .uint32: return butler_h5t_native_uint32()
        case .int64: return butler_h5t_native_int64()
        case .float32: return butler_h5t_native_float()
        case .float64: return butler_h5t_native_double()
        }
    }
}
