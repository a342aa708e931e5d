import Composites

/// How `get(…, as: T.self)` returns a `T`, chosen before any artifact is read so that an
/// impossible conversion costs no I/O (DESIGN §3.4): the storage class's own type, a conversion
/// it declares (Exposure → Image, Image → PixelArray…), or — for structured storage classes —
/// any `Decodable` type decoded straight from the file.
struct TypedViewPlan: Sendable {
    /// How the value is produced.
    enum Route: Sendable {
        /// The storage class's own in-memory type.
        case direct
        /// A conversion the storage class declares.
        case converted(TypeConverter)
        /// Decoded from the file as `T` (whole structured datasets only).
        case decoded
    }

    let route: Route

    /// Plans reading `component` (or the whole dataset) of `datasetType` as `T`.
    /// - Throws: ``ButlerError/Code/typeMismatch`` naming the types it can be read as.
    init<T>(_ datasetType: DatasetType, component: String?, as type: T.Type, storageClasses: StorageClassRegistry) throws {
        let parentClass = try storageClasses.storageClass(named: datasetType.storageClassName)
        var targetClass = parentClass
        if let component {
            guard let name = parentClass.componentStorageClass(component) else {
                throw ButlerError.typeMismatch(
                    "\(datasetType.name): storage class \(parentClass.name) has no component '\(component)'; components: \(parentClass.allComponents.joined(separator: ", "))"
                )
            }
            targetClass = try storageClasses.storageClass(named: name)
        }
        if ObjectIdentifier(targetClass.inMemoryType) == ObjectIdentifier(T.self) {
            route = .direct
        } else if let converter = targetClass.converter(to: T.self) {
            route = .converted(converter)
        } else if component == nil, targetClass.decodeDefault != nil, T.self is any Decodable.Type {
            route = .decoded
        } else {
            let options = [String(describing: targetClass.inMemoryType)] + targetClass.converters.map(\.targetName)
            throw ButlerError.typeMismatch(
                "\(datasetType.name)\(component.map { ".\($0)" } ?? "") (\(targetClass.name)) cannot be read as \(T.self); it can be read as \(options.joined(separator: ", "))"
            )
        }
    }

    /// The value read in the storage class's type, as `T` (converted when planned so).
    func finish<T>(_ value: any Sendable, as type: T.Type, describing what: @autoclosure () -> String) throws -> T {
        var result = value
        if case .converted(let converter) = route {
            do { result = try converter.convert(value) } catch {
                throw ButlerError.typeMismatch("cannot convert \(what()) to \(T.self)", cause: error)
            }
        }
        guard let typed = result as? T else {
            throw ButlerError.typeMismatch("\(what()) is \(Swift.type(of: result)), not \(T.self)")
        }
        return typed
    }
}
