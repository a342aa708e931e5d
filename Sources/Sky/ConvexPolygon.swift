import Foundation

/// A convex polygon on the unit sphere: vertices counter-clockwise seen from outside, joined by
/// great-circle edges, boundary included (lsst-sphgeom's `ConvexPolygon`, with its relations).
public struct ConvexPolygon: Sendable, Hashable, CustomStringConvertible {
    /// The vertices, counter-clockwise, at least 3.
    public let vertices: [UnitVector3d]

    /// The polygon with these vertices, which must already be a strictly convex, counter-clockwise
    /// ring (as an encoded polygon is).
    /// - Throws: ``SkyError`` for fewer than 3 vertices or a ring that is not convex.
    public init(vertices: [UnitVector3d]) throws {
        guard vertices.count >= 3 else { throw SkyError("a convex polygon needs at least 3 vertices, got \(vertices.count)") }
        for i in vertices.indices {
            let previous = vertices[(i + vertices.count - 1) % vertices.count], next = vertices[(i + 1) % vertices.count]
            guard orientation(previous, vertices[i], next) > 0 else {
                throw SkyError(
                    "vertices \(vertices.map { LonLat($0) }) are not a convex counter-clockwise ring (at vertex \(i), \(LonLat(vertices[i])))"
                )
            }
        }
        self.vertices = vertices
    }

    /// The convex hull of `points` (sphgeom's `ConvexPolygon(points)`; the order of the points
    /// does not matter).
    /// - Throws: ``SkyError`` when fewer than 3 distinct points span a plane, or when the hull is
    ///   not a convex polygon (it would hold a pair of antipodal points).
    public init(hullOf points: [UnitVector3d]) throws {
        vertices = try ConvexHull.compute(points)
    }

    /// The hull of points given as (longitude, latitude) degree pairs.
    /// - Throws: ``SkyError`` for a coordinate out of range or a degenerate hull.
    public init(hullOfDegrees pairs: [(Double, Double)]) throws {
        try self.init(hullOf: pairs.map { UnitVector3d(try LonLat(lonDegrees: $0.0, latDegrees: $0.1)) })
    }

    init(trusted vertices: [UnitVector3d]) { self.vertices = vertices }

    /// Whether `v` is inside or on the boundary (exact).
    public func contains(_ v: UnitVector3d) -> Bool { PolygonGeometry.contains(vertices, v) }

    /// How this polygon relates to a circle (exact).
    public func relate(_ c: Circle) -> Relationship { PolygonGeometry.relate(vertices, c) }
    /// How this polygon relates to another (exact).
    public func relate(_ p: ConvexPolygon) -> Relationship { PolygonGeometry.relate(vertices, p.vertices) }
    /// How this polygon relates to a box (conservative: through the polygon's bounding box).
    public func relate(_ b: Box) -> Relationship { PolygonGeometry.relate(vertices, b) }

    /// A box holding the polygon.
    public var boundingBox: Box { PolygonGeometry.boundingBox(vertices) }
    /// A circle holding the polygon.
    public var boundingCircle: Circle { PolygonGeometry.boundingCircle(vertices) }
    /// The centroid.
    public var centroid: UnitVector3d { PolygonGeometry.centroid(vertices) }

    public static func == (l: ConvexPolygon, r: ConvexPolygon) -> Bool {
        guard l.vertices.count == r.vertices.count, let start = r.vertices.firstIndex(of: l.vertices[0]) else { return false }
        return l.vertices.indices.allSatisfy { l.vertices[$0] == r.vertices[(start + $0) % r.vertices.count] }
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(Set(vertices)) }

    public var description: String {
        "POLYGON " + vertices.map { LonLat($0) }.map { "\($0.lonDegrees) \($0.latDegrees)" }.joined(separator: " ")
    }
}

/// The polygon computations of sphgeom's `ConvexPolygonImpl`, over any ring of vertices so that
/// pixels (triangles) are related to regions without building polygons.
enum PolygonGeometry {
    static func contains<V: RandomAccessCollection<UnitVector3d>>(_ ring: V, _ v: UnitVector3d) -> Bool {
        var previous = ring[ring.index(before: ring.endIndex)]
        for vertex in ring {
            if orientation(v, previous, vertex) < 0 { return false }
            previous = vertex
        }
        return true
    }

    static func centroid<V: RandomAccessCollection<UnitVector3d>>(_ ring: V) -> UnitVector3d {
        var cm = Vector3d.zero
        var previous = ring[ring.index(before: ring.endIndex)]
        for vertex in ring {
            var v = previous.robustCross(vertex)
            let s = 0.5 * v.normalize()
            let c = previous.dot(vertex)
            let a = s == 0 && c == 0 ? 0 : atan2(s, c)
            cm = cm + v * a
            previous = vertex
        }
        return UnitVector3d(cm)
    }

    static func boundingCircle<V: RandomAccessCollection<UnitVector3d>>(_ ring: V) -> Circle {
        let c = centroid(ring)
        var cl2 = 0.0
        for vertex in ring { cl2 = max(cl2, (vertex.vector - c.vector).squaredNorm) }
        return Circle(center: c, squaredChordLength: cl2 + 2 * SphgeomBounds.maxSquaredChordLengthError)
    }

    static func boundingBox<V: RandomAccessCollection<UnitVector3d>>(_ ring: V) -> Box {
        let eps = 5.0e-10
        var box = Box.empty
        var haveClockwise = false, haveCounterClockwise = false
        var previous = ring[ring.index(before: ring.endIndex)]
        for vertex in ring {
            let p = LonLat(vertex)
            box.expand(to: Box(center: p, halfWidth: eps, halfHeight: eps))
            if !haveClockwise || !haveCounterClockwise {
                let o = orientationZ(previous, vertex)
                haveCounterClockwise = haveCounterClockwise || o > 0
                haveClockwise = haveClockwise || o < 0
            }
            let n = previous.robustCross(vertex)
            let v = Vector3d(-n.x * n.z, -n.y * n.z, n.x * n.x + n.y * n.y)
            if !v.isZero {
                let zni = previous.y * n.x - previous.x * n.y
                let znj = vertex.y * n.x - vertex.x * n.y
                if zni > 0 && znj < 0 {
                    box.lat.expand(to: LonLat.latitude(of: v) + eps)
                } else if zni < 0 && znj > 0 {
                    box.lat.expand(to: LonLat.latitude(of: -v) - eps)
                }
            }
            previous = vertex
        }
        if !haveClockwise {
            box.expand(to: Box(lon: .full, lat: AngleInterval(point: 0.5 * SphgeomConstants.pi)))
        } else if !haveCounterClockwise {
            box.expand(to: Box(lon: .full, lat: AngleInterval(point: -0.5 * SphgeomConstants.pi)))
        }
        return box
    }

    static func relate<V: RandomAccessCollection<UnitVector3d>>(_ ring: V, _ b: Box) -> Relationship {
        boundingBox(ring).relate(b).intersection([.disjoint, .within])
    }

    static func relate<V: RandomAccessCollection<UnitVector3d>>(_ ring: V, _ c: Circle) -> Relationship {
        if c.isEmpty { return [.contains, .disjoint] }
        if c.isFull { return .within }
        let chordError = SphgeomBounds.maxSquaredChordLengthError
        var inside = false
        var first = true
        for vertex in ring {
            let d = (vertex.vector - c.center.vector).squaredNorm
            if abs(d - c.squaredChordLength) < chordError { return .intersects }
            let b = d < c.squaredChordLength
            if first {
                inside = b
                first = false
            } else if inside != b {
                return .intersects
            }
        }
        var previous = ring[ring.index(before: ring.endIndex)]
        if inside {
            for vertex in ring {
                let n = previous.robustCross(vertex)
                let d = maxSquaredChordLength(c.center.vector, previous.vector, vertex.vector, n, near: c.squaredChordLength)
                if d > c.squaredChordLength - chordError { return .intersects }
                previous = vertex
            }
            return contains(ring, -c.center) ? .intersects : .within
        }
        for vertex in ring {
            let n = previous.robustCross(vertex)
            let d = minSquaredChordLength(c.center.vector, previous.vector, vertex.vector, n, near: c.squaredChordLength)
            if d < c.squaredChordLength + chordError { return .intersects }
            previous = vertex
        }
        return contains(ring, c.center) ? .contains : .disjoint
    }

    static func relate<V1: RandomAccessCollection<UnitVector3d>, V2: RandomAccessCollection<UnitVector3d>>(
        _ ring1: V1, _ ring2: V2
    ) -> Relationship {
        var all1 = true, any1 = false, all2 = true, any2 = false
        for vertex in ring1 {
            let b = contains(ring2, vertex)
            all1 = b && all1
            any1 = b || any1
        }
        for vertex in ring2 {
            let b = contains(ring1, vertex)
            all2 = b && all2
            any2 = b || any2
        }
        if all1 || all2 {
            var result: Relationship = []
            if all1 { result.insert(.within) }
            if all2 { result.insert(.contains) }
            return result
        }
        if any1 || any2 { return .intersects }
        var a = ring1[ring1.index(before: ring1.endIndex)]
        for b in ring1 {
            var c = ring2[ring2.index(before: ring2.endIndex)]
            for d in ring2 {
                let acd = orientation(a, c, d)
                let bdc = orientation(b, d, c)
                if acd == bdc && acd != 0 {
                    let cba = orientation(c, b, a)
                    let dab = orientation(d, a, b)
                    if cba == dab && cba == acd { return .intersects }
                }
                c = d
            }
            a = b
        }
        return .disjoint
    }
}

/// sphgeom's incremental convex hull (`computeHull`): a first counter-clockwise triangle, then
/// each point either inside (ignored) or replacing the run of hull vertices it sees.
enum ConvexHull {
    static let antipodal = "the convex hull of the points is not a convex polygon (it would hold a pair of antipodal points)"
    static let tooFew = "a convex polygon needs at least 3 distinct points not on one great circle"

    static func compute(_ input: [UnitVector3d]) throws -> [UnitVector3d] {
        var points = input
        guard points.count >= 3 else { throw SkyError(tooFew + ", got \(points.count) point(s)") }
        var next = try findTriangle(&points)
        var hull = Array(points[0..<3])
        while next < points.count {
            let v = points[next]
            next += 1
            let count = hull.count
            // Vertex j turns counter-clockwise seen from v when the edge ending at it does.
            let firstCCW = orientation(v, hull[count - 1], hull[0]) > 0
            var previousCCW = firstCCW
            var toCCW: Int? = nil  // the last vertex before the turn back to counter-clockwise
            var fromCCW: Int? = nil  // the first vertex after the turn away from it
            for j in 1..<count {
                if orientation(v, hull[j - 1], hull[j]) > 0 {
                    if !previousCCW {
                        toCCW = j - 1
                        previousCCW = true
                    }
                } else if previousCCW {
                    fromCCW = j
                    previousCCW = false
                }
            }
            if firstCCW {
                if !previousCCW { toCCW = count - 1 }
            } else if previousCCW {
                fromCCW = 0
            }
            guard let to = toCCW, let from = fromCCW else {
                if firstCCW { continue }  // v is inside the hull
                throw SkyError(antipodal)  // −v is
            }
            // v replaces the vertices it sees, from `from` up to but not including `to`,
            // placed as sphgeom places it (the hull's rotation follows).
            if to < from {
                hull = Array(hull[to..<from]) + [v]
            } else if to > from {
                hull = Array(hull[0..<from]) + [v] + Array(hull[to...])
            } else if from == 0 {
                hull.append(v)
            } else {
                hull.insert(v, at: from)
            }
        }
        return hull
    }

    /// Moves two distinct points to the front, returning where the search stopped.
    private static func findPlane(_ points: inout [UnitVector3d]) throws -> Int {
        let v0 = points[0]
        var index = 1
        while index < points.count {
            if v0 == -points[index] { throw SkyError(antipodal) }
            if v0 != points[index] { break }
            index += 1
        }
        guard index < points.count else { throw SkyError(tooFew) }
        points[1] = points[index]
        return index + 1
    }

    /// Moves a counter-clockwise triangle to the front, returning where the search stopped.
    private static func findTriangle(_ points: inout [UnitVector3d]) throws -> Int {
        var index = try findPlane(&points)
        let n = UnitVector3d(points[0].robustCross(points[1]))
        while index < points.count {
            let v = points[index]
            let v0 = points[0], v1 = points[1]
            let ccw = orientation(v0, v1, v)
            if ccw > 0 { break }
            if ccw < 0 {
                points.swapAt(0, 1)
                break
            }
            index += 1
            if v == v0 || v == v1 { continue }
            if v == -v0 || v == -v1 { throw SkyError(antipodal) }
            let v0v = orientation(n, v0, v)
            let vv1 = orientation(n, v, v1)
            if v0v == vv1 { continue }
            let v0v1 = orientation(n, v0, v1)
            if v0v1 == -vv1 {
                points[1] = v
                continue
            }
            if -v0v == v0v1 {
                points[0] = v
                continue
            }
            throw SkyError(antipodal)
        }
        guard index < points.count else { throw SkyError(tooFew) }
        points[2] = points[index]
        return index + 1
    }
}

/// The sign of `(b × c)_z`, exact (sphgeom's `orientationZ`: orientation with the north pole).
func orientationZ(_ b: UnitVector3d, _ c: UnitVector3d) -> Int {
    let ab = b.x * c.y, ba = b.y * c.x
    let determinant = ab - ba
    let bound = 1.12e-16
    if determinant > bound { return 1 }
    if determinant < -bound { return -1 }
    let maxError = bound * (abs(ab) + abs(ba)) + 1.0e-307
    if determinant > maxError { return 1 }
    if determinant < -maxError { return -1 }
    return ExactOrientation.sign(.unitZ, b, c)
}
