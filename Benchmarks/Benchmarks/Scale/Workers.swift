// Dedicated threads for the concurrency benchmark.
//
// The benchmark harness waits for an async benchmark with a semaphore on one of the threads of
// Swift's cooperative pool, which is as wide as the machine has cores. On two cores that leaves
// one thread for the benchmark's tasks, so tasks added to a plain task group cannot run in
// parallel however many there are. Giving the tasks this executor as their preference runs
// them (and the nonisolated async Butler code they call) on threads of their own instead, as
// many as the machine has cores (what the cooperative pool would have offered).
import Foundation
import Synchronization

/// A task executor backed by a fixed number of threads pulling jobs from one queue.
final class WorkerThreads: TaskExecutor, @unchecked Sendable {
    // `jobs` and `head` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    private static let pools = Mutex<[Int: WorkerThreads]>([:])

    /// The process's pool of `count` threads, started on first use; the threads live as long
    /// as the process (the harness runs one benchmark per process).
    static func pool(count: Int) -> WorkerThreads {
        pools.withLock { pools in
            if let pool = pools[count] { return pool }
            let pool = WorkerThreads(count: count)
            pools[count] = pool
            return pool
        }
    }

    private init(count: Int) {
        for index in 0..<count {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "bench-worker-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
