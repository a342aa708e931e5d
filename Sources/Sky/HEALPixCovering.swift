import Foundation

// Coverings of regions by nested HEALPix pixels, computed as lsst-sphgeom's
// `HealpixPixelization` computes them: it asks hpgeom (the HEALPix C++ library's nested-scheme
// queries, in C) for the pixels a circle, polygon or box may overlap, then dilates or erodes that
// answer. The arithmetic below follows hpgeom's, operation for operation, so the pixel sets are
// the same; the tests compare them with hpgeom and sphgeom run in the same test run.

/// One HEALPix order's constants, as hpgeom derives them.
struct HEALPixGrid {
    let order: Int
    let nside: Int64
    let pixelsPerFace: Int64
    let pixelCount: Int64
    let fact1: Double
    let fact2: Double

    init(order: Int) {
        self.order = order
        nside = 1 << Int64(order)
        pixelsPerFace = nside << Int64(order)
        pixelCount = 12 * pixelsPerFace
        fact2 = 4.0 / Double(pixelCount)
        fact1 = Double(nside << 1) * fact2
    }

    static let halfPi = 1.570796326794896619231321691639751442099
    static let pi = 3.141592653589793238462643383279502884197
    static let twoPi = 6.283185307179586476925286766559005768394
    /// The ring number (in units of nside) of each base face's centre, and its longitude index.
    static let faceRing: [Int64] = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]
    static let facePhi: [Int64] = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7]

    /// Face number and in-face coordinates of a nested pixel.
    func xyf(_ pixel: Int64) -> (x: Int64, y: Int64, face: Int) {
        let face = Int(pixel >> Int64(2 * order))
        let local = UInt64(pixel & (pixelsPerFace - 1))
        return (Int64(HEALPixNested.compress(local)), Int64(HEALPixNested.compress(local >> 1)), face)
    }

    /// The nested pixel at in-face coordinates.
    func pixel(x: Int64, y: Int64, face: Int) -> Int64 {
        (Int64(face) << Int64(2 * order)) + Int64(HEALPixNested.spread(UInt64(x))) + Int64(HEALPixNested.spread(UInt64(y)) << 1)
    }

    /// A pixel centre as z = cos θ, longitude, and sin θ where hpgeom computes it separately
    /// (near the poles, where 1 − z² loses precision) — `pix2loc`.
    func centre(_ pixel: Int64) -> (z: Double, phi: Double, sinTheta: Double?) {
        let (x, y, face) = xyf(pixel)
        let ringIndex = (Self.faceRing[face] << Int64(order)) - x - y - 1
        var ringPixels: Int64
        var z: Double
        var sinTheta: Double?
        if ringIndex < nside {
            ringPixels = ringIndex
            let t = Double(ringPixels * ringPixels) * fact2
            z = 1 - t
            if z > 0.99 { sinTheta = (t * (2.0 - t)).squareRoot() }
        } else if ringIndex > 3 * nside {
            ringPixels = nside * 4 - ringIndex
            let t = Double(ringPixels * ringPixels) * fact2
            z = t - 1
            if z < -0.99 { sinTheta = (t * (2.0 - t)).squareRoot() }
        } else {
            ringPixels = nside
            z = Double(2 * nside - ringIndex) * fact1
        }
        var t = Self.facePhi[face] * ringPixels + x - y
        if t < 0 { t += 8 * ringPixels }
        let phi = ringPixels == nside ? 0.75 * Self.halfPi * Double(t) * fact1 : (0.5 * Self.halfPi * Double(t)) / Double(ringPixels)
        return (z, phi, sinTheta)
    }

    /// A pixel centre as a vector (`pix2vec`).
    func centreVector(_ pixel: Int64) -> (Double, Double, Double) {
        let (z, phi, sinTheta) = centre(pixel)
        let s = sinTheta ?? ((1 - z) * (1 + z)).squareRoot()
        return (s * cos(phi), s * sin(phi), z)
    }

    /// A pixel centre's colatitude and longitude (`pix2ang`).
    func centreAngles(_ pixel: Int64) -> (theta: Double, phi: Double) {
        let (z, phi, sinTheta) = centre(pixel)
        return (sinTheta.map { atan2($0, z) } ?? acos(z), phi)
    }

    /// An upper bound on the angular radius of any pixel of this order (`max_pixrad`).
    var maximumPixelRadius: Double {
        let az = 2.0 / 3.0
        let phiA = Self.pi / (4.0 * Double(nside))
        var s = ((1.0 - az) * (1.0 + az)).squareRoot()
        let a = (s * cos(phiA), s * sin(phiA), az)
        var t1 = 1.0 - 1.0 / Double(nside)
        t1 *= t1
        let bz = 1.0 - t1 / 3.0
        s = ((1.0 - bz) * (1.0 + bz)).squareRoot()
        let b = (s, 0.0, bz)
        let cross = HEALPixVector.cross(a, b)
        return atan2(HEALPixVector.length(cross), HEALPixVector.dot(a, b))
    }

    /// The corners of a pixel (`boundaries` with one point per side), as sphgeom turns hpgeom's
    /// longitudes and latitudes back into unit vectors.
    func corners(_ pixel: Int64) -> [UnitVector3d] {
        let (x, y, face) = xyf(pixel)
        let n = Double(nside)
        let dc = 0.5 / n
        let xc = (Double(x) + 0.5) / n, yc = (Double(y) + 0.5) / n
        return [(xc + dc, yc + dc), (xc - dc, yc + dc), (xc - dc, yc - dc), (xc + dc, yc - dc)].map { corner in
            let (theta, phi) = Self.angles(x: corner.0, y: corner.1, face: face)
            return UnitVector3d(lon: LonLat.normalized(phi), lat: -(theta - Self.halfPi))
        }
    }

    /// Colatitude and longitude of a point given by continuous in-face coordinates in [0, 1]
    /// (`xyf2loc` then `locToPtg`).
    static func angles(x: Double, y: Double, face: Int) -> (theta: Double, phi: Double) {
        let ringIndex = Double(faceRing[face]) - x - y
        var ringPixels: Double
        var z: Double
        var sinTheta: Double?
        if ringIndex < 1 {
            ringPixels = ringIndex
            let t = ringPixels * ringPixels / 3.0
            z = 1 - t
            if z > 0.99 { sinTheta = (t * (2.0 - t)).squareRoot() }
        } else if ringIndex > 3 {
            ringPixels = 4 - ringIndex
            let t = ringPixels * ringPixels / 3.0
            z = t - 1
            if z < -0.99 { sinTheta = (t * (2.0 - t)).squareRoot() }
        } else {
            ringPixels = 1
            z = (2 - ringIndex) * 2.0 / 3.0
        }
        var t = Double(facePhi[face]) * ringPixels + x - y
        if t < 0 { t += 8 }
        if t >= 8 { t -= 8 }
        let phi = ringPixels < 1e-15 ? 0 : (0.5 * halfPi * t) / ringPixels
        return (sinTheta.map { atan2($0, z) } ?? acos(z), phi)
    }

    // The neighbour directions (W, NW, N, NE, E, SE, S, SW in in-face x/y steps), and how a step
    // off a face lands on another face (which face, and whether x and y flip or swap there).
    private static let neighbourX = [-1, -1, 0, 1, 1, 1, 0, -1]
    private static let neighbourY = [0, 1, 1, 1, 0, -1, -1, -1]
    private static let neighbourFace: [[Int]] = [
        [8, 9, 10, 11, -1, -1, -1, -1, 10, 11, 8, 9], [5, 6, 7, 4, 8, 9, 10, 11, 9, 10, 11, 8],
        [-1, -1, -1, -1, 5, 6, 7, 4, -1, -1, -1, -1], [4, 5, 6, 7, 11, 8, 9, 10, 11, 8, 9, 10],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 2, 3, 0, 0, 1, 2, 3, 5, 6, 7, 4],
        [-1, -1, -1, -1, 7, 4, 5, 6, -1, -1, -1, -1], [3, 0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7],
        [2, 3, 0, 1, -1, -1, -1, -1, 0, 1, 2, 3],
    ]
    private static let neighbourSwap: [[Int]] = [
        [0, 0, 3], [0, 0, 6], [0, 0, 0], [0, 0, 5], [0, 0, 0], [5, 0, 0], [0, 0, 0], [6, 0, 0], [3, 0, 0],
    ]

    /// The pixels sharing an edge or a corner with `pixel` (7 or 8 of them; hpgeom's `neighbors`
    /// without its −1 placeholders).
    func neighbours(_ pixel: Int64, into result: inout [Int64]) {
        let (ix, iy, face) = xyf(pixel)
        for m in 0..<8 {
            var x = ix + Int64(Self.neighbourX[m]), y = iy + Int64(Self.neighbourY[m])
            var direction = 4
            if x < 0 {
                x += nside
                direction -= 1
            } else if x >= nside {
                x -= nside
                direction += 1
            }
            if y < 0 {
                y += nside
                direction -= 3
            } else if y >= nside {
                y -= nside
                direction += 3
            }
            let f = Self.neighbourFace[direction][face]
            guard f >= 0 else { continue }
            let bits = Self.neighbourSwap[direction][face >> 2]
            if bits & 1 != 0 { x = nside - x - 1 }
            if bits & 2 != 0 { y = nside - y - 1 }
            if bits & 4 != 0 { swap(&x, &y) }
            result.append(self.pixel(x: x, y: y, face: f))
        }
    }
}

/// hpgeom's three-component vector arithmetic, in its operation order.
enum HEALPixVector {
    typealias V = (Double, Double, Double)
    static func dot(_ a: V, _ b: V) -> Double { a.0 * b.0 + a.1 * b.1 + a.2 * b.2 }
    static func cross(_ a: V, _ b: V) -> V { (a.1 * b.2 - a.2 * b.1, a.2 * b.0 - a.0 * b.2, a.0 * b.1 - a.1 * b.0) }
    static func length(_ a: V) -> Double { (a.0 * a.0 + a.1 * a.1 + a.2 * a.2).squareRoot() }
    static func normalized(_ a: V) -> V {
        let scale = 1.0 / length(a)
        return (a.0 * scale, a.1 * scale, a.2 * scale)
    }
    static func fromAngles(theta: Double, phi: Double) -> V {
        let s = sin(theta)
        return (s * cos(phi), s * sin(phi), cos(theta))
    }
}

/// The depth-first walk hpgeom's inclusive nested queries share: starting from the 12 base
/// pixels, a shape classifies each pixel into a zone — 0 outside, 1 may overlap (centre
/// outside), 2 centre inside, 3 wholly inside — and the walk refines pixels down to two orders
/// below the target (hpgeom's default `fact` of 4), taking a target pixel as soon as any pixel
/// under it has its centre inside (`check_pixel_nest`).
struct HEALPixQueryWalk {
    let order: Int
    let deepestOrder: Int
    let grids: [HEALPixGrid]
    private var stack: [(pixel: Int64, order: Int)] = []
    private var stackTop = 0
    private(set) var result = RangeSet()

    /// hpgeom's inclusive factor: the walk tests pixels down to `order + log2(4)`.
    static let extraOrders = 2

    init(order: Int) {
        self.order = order
        deepestOrder = order + Self.extraOrders
        grids = (0...deepestOrder).map(HEALPixGrid.init(order:))
    }

    /// Runs the walk; `zone` classifies a pixel of an order.
    mutating func run(_ zone: (Int64, Int) -> Int) -> RangeSet {
        stack = (0..<12).reversed().map { (Int64($0), 0) }
        while let (pixel, pixelOrder) = stack.popLast() {
            let z = zone(pixel, pixelOrder)
            if z > 0 { check(pixel, order: pixelOrder, zone: z) }
        }
        return result
    }

    private mutating func pushChildren(_ pixel: Int64, order o: Int) {
        for i in 0..<Int64(4) { stack.append((4 * pixel + 3 - i, o + 1)) }
    }

    private mutating func take(_ first: Int64, _ last: Int64) { result.insert(UInt64(first), UInt64(last)) }

    private mutating func check(_ pixel: Int64, order o: Int, zone: Int) {
        if o < order {
            if zone >= 3 {
                let shift = Int64(2 * (order - o))
                take(pixel << shift, (pixel + 1) << shift)
            } else {
                pushChildren(pixel, order: o)
            }
        } else if o > order {
            if zone >= 2 || o >= deepestOrder {
                let parent = pixel >> Int64(2 * (o - order))
                take(parent, parent + 1)
                stack.removeSubrange(min(stackTop, stack.count)...)
            } else {
                pushChildren(pixel, order: o)
            }
        } else if zone >= 2 || order >= deepestOrder {
            take(pixel, pixel + 1)
        } else {
            stackTop = stack.count
            pushChildren(pixel, order: o)
        }
    }
}

extension HEALPixNested {
    /// The deepest order whose coverings are computed: the envelope works at order + 4 and
    /// hpgeom's queries two orders deeper still, within its order-29 limit.
    public static let maxCoveringOrder = 23

    /// The pixel holding the point `v` (hpgeom's `vector_to_pixel`, which sphgeom's
    /// `HealpixPixelization.index` calls).
    public func index(of v: UnitVector3d) -> Int64 {
        let scale = 1.0 / (v.x * v.x + v.y * v.y + v.z * v.z).squareRoot()
        let phi = v.x == 0 && v.y == 0 ? 0 : atan2(v.y, v.x)
        let z = v.z * scale
        if abs(z) > 0.99 { return pixel(z: z, phi: phi, sinTheta: (v.x * v.x + v.y * v.y).squareRoot() * scale) }
        return pixel(z: z, phi: phi, sinTheta: nil)
    }

    /// All pixels of this order.
    public var universe: RangeSet { RangeSet([(0, UInt64(pixelCount))]) }

    /// The pixels that may meet `region`: sphgeom's `HealpixPixelization.envelope` — hpgeom's
    /// inclusive query at 16× the resolution, dilated by one fine pixel, at this order. With
    /// `maxRanges` > 0 the ranges are coarsened (outward) until at most that many remain
    /// (sphgeom refuses `maxRanges` for HEALPix). A union or intersection combines its operands'
    /// envelopes (sphgeom refuses those too).
    ///
    /// Two inputs get a different, correct answer here, where sphgeom's is empty because of how
    /// it hands boxes to hpgeom: a box spanning all longitudes, and a box of zero width or height
    /// (covered through its bounding circle).
    /// - Throws: ``SkyError`` above order 23 (``maxCoveringOrder``).
    public func envelope(_ region: Region, maxRanges: Int = 0) throws -> RangeSet {
        try checkCoveringOrder()
        let result: RangeSet
        switch region {
        case .union(let operands):
            result = try operands.reduce(RangeSet()) { $0.union(try envelope($1)) }
        case .intersection(let operands):
            result = try operands.reduce(universe) { $0.intersection(try envelope($1)) }
        default:
            let fine = try HEALPixNested(order: order + 4)
            let finePixels = fine.inclusiveQuery(region)
            result = Self.dilatedParents(of: finePixels, fine: HEALPixGrid(order: order + 4), shift: 8)
        }
        return Self.limited(result, maxRanges: maxRanges, interior: false)
    }

    /// The pixels certainly inside `region`: sphgeom's `HealpixPixelization.interior` —
    /// hpgeom's inclusive query at this order, keeping the pixels whose four corners the region
    /// contains. With `maxRanges` > 0 the ranges are coarsened inward.
    /// - Throws: ``SkyError`` above order 23 (``maxCoveringOrder``).
    public func interior(_ region: Region, maxRanges: Int = 0) throws -> RangeSet {
        try checkCoveringOrder()
        let result: RangeSet
        switch region {
        case .union(let operands):
            result = try operands.reduce(RangeSet()) { $0.union(try interior($1)) }
        case .intersection(let operands):
            result = try operands.reduce(universe) { $0.intersection(try interior($1)) }
        default:
            let grid = HEALPixGrid(order: order)
            var kept = RangeSet()
            for (first, last) in inclusiveQuery(region).ranges {
                for pixel in first..<last where grid.corners(Int64(pixel)).allSatisfy(region.contains) {
                    kept.insert(pixel, pixel + 1)
                }
            }
            result = kept
        }
        return Self.limited(result, maxRanges: maxRanges, interior: true)
    }

    /// The region of pixel `index`: the polygon through four points on each side, as sphgeom's
    /// `HealpixPixelization.pixel` draws it.
    /// - Throws: ``SkyError`` for an index outside this order.
    public func pixelRegion(_ index: Int64) throws -> Region {
        guard (0..<pixelCount).contains(index) else {
            throw SkyError("HEALPix pixel \(index) is outside order \(order) (0–\(pixelCount - 1))")
        }
        let grid = HEALPixGrid(order: order)
        let (x, y, face) = grid.xyf(index)
        let n = Double(nside), step = 4
        let dc = 0.5 / n, d = 1.0 / Double(step * Int(nside))
        let xc = (Double(x) + 0.5) / n, yc = (Double(y) + 0.5) / n
        var sides: [[(Double, Double)]] = [[], [], [], []]
        for i in 0..<step {
            let di = Double(i) * d
            sides[0].append((xc + dc - di, yc + dc))
            sides[1].append((xc - dc, yc + dc - di))
            sides[2].append((xc - dc + di, yc - dc))
            sides[3].append((xc + dc, yc - dc + di))
        }
        // hpgeom hands the points to sphgeom in degrees, which turns them back into vectors.
        let points = sides.joined().map { corner -> UnitVector3d in
            let (theta, phi) = HEALPixGrid.angles(x: corner.0, y: corner.1, face: face)
            let lonDegrees = phi * (180.0 / HEALPixGrid.pi), latDegrees = -(theta - HEALPixGrid.halfPi) * (180.0 / HEALPixGrid.pi)
            let v = HEALPixVector.fromAngles(
                theta: -(latDegrees * HEALPixGrid.pi / 180.0) + HEALPixGrid.halfPi,
                phi: Self.modulo(lonDegrees * HEALPixGrid.pi / 180.0, HEALPixGrid.twoPi))
            return UnitVector3d.normalized(v.0, v.1, v.2)
        }
        return .polygon(try ConvexPolygon(hullOf: points))
    }

    private func checkCoveringOrder() throws {
        guard order <= Self.maxCoveringOrder else {
            throw SkyError("HEALPix coverings are computed up to order \(Self.maxCoveringOrder), not at order \(order)")
        }
    }

    /// Coarsens `ranges` until at most `maxRanges` remain, as the HTM coverings do: outward for
    /// an envelope, inward (through the complement) for an interior.
    static func limited(_ ranges: RangeSet, maxRanges: Int, interior: Bool) -> RangeSet {
        guard maxRanges > 0 else { return ranges }
        var result = ranges
        var shift = 0
        while result.rangeCount > maxRanges {
            shift += 2
            result = interior ? ranges.complement.simplified(shift).complement : ranges.simplified(shift)
        }
        return result
    }

    /// The parents (`shift` bits up) of every fine pixel's neighbours (sphgeom's dilation by one
    /// fine pixel). A parent whose own neighbours are all parents already adds nothing; only
    /// the fine pixels on the edges of the other parents need their neighbours found.
    static func dilatedParents(of fine: RangeSet, fine grid: HEALPixGrid, shift: Int) -> RangeSet {
        var parents = RangeSet()
        for (first, last) in fine.ranges { parents.insert(first >> UInt64(shift), ((last - 1) >> UInt64(shift)) + 1) }
        let coarse = HEALPixGrid(order: grid.order - shift / 2)
        let side = Int64(1) << Int64(shift / 2)
        // The fine pixels on a parent's border (in-parent coordinates): only their neighbours can
        // fall in another parent.
        let edge =
            (0..<side).flatMap { [($0, Int64(0)), ($0, side - 1)] } + (1..<max(1, side - 1)).flatMap { [(Int64(0), $0), (side - 1, $0)] }
        var extra: [Int64] = []
        var neighbours: [Int64] = []
        neighbours.reserveCapacity(8)
        for (first, last) in parents.ranges {
            for parent in Int64(first)..<Int64(last) {
                neighbours.removeAll(keepingCapacity: true)
                coarse.neighbours(parent, into: &neighbours)
                if neighbours.allSatisfy({ parents.contains(UInt64($0)) }) { continue }
                for (lx, ly) in edge {
                    let pixel = (parent << Int64(shift)) + Int64(spread(UInt64(lx)) | (spread(UInt64(ly)) << 1))
                    guard fine.contains(UInt64(pixel)) else { continue }
                    neighbours.removeAll(keepingCapacity: true)
                    grid.neighbours(pixel, into: &neighbours)
                    extra.append(contentsOf: neighbours.map { $0 >> Int64(shift) })
                }
            }
        }
        guard !extra.isEmpty else { return parents }
        var added = RangeSet()
        for parent in Set(extra).sorted() { added.insert(UInt64(parent), UInt64(parent) + 1) }
        return parents.union(added)
    }

    /// hpgeom's inclusive query of a single shape at this order, with the region handed over as
    /// sphgeom hands it (a polygon hpgeom finds degenerate goes as its bounding circle).
    func inclusiveQuery(_ region: Region) -> RangeSet {
        switch region {
        case .circle(let circle):
            if circle.isEmpty { return RangeSet() }
            let centre = LonLat(circle.center)
            let theta = -centre.lat + HEALPixGrid.halfPi
            let phi = Self.modulo(centre.lon, HEALPixGrid.twoPi)
            if circle.openingAngle == 0 { return RangeSet(value: UInt64(pixel(theta: theta, phi: phi))) }
            return queryDisc(theta: theta, phi: phi, radius: circle.openingAngle)
        case .polygon(let polygon):
            return queryPolygon(polygon.vertices) ?? inclusiveQuery(.circle(polygon.boundingCircle))
        case .box(let box):
            if box.isEmpty { return RangeSet() }
            let (west, east) = box.longitudes, (south, north) = box.latitudes
            let fullLongitude = box.lon.isFull
            let theta0 = -north + HEALPixGrid.halfPi, theta1 = -south + HEALPixGrid.halfPi
            let phi0 = Self.modulo(west, HEALPixGrid.twoPi), phi1 = Self.modulo(east, HEALPixGrid.twoPi)
            // hpgeom finds nothing in a box of zero height or width; its bounding circle covers it.
            if theta0 == theta1 || (phi0 == phi1 && !fullLongitude) { return inclusiveQuery(.circle(box.boundingCircle)) }
            return queryBox(theta0: theta0, theta1: theta1, phi0: phi0, phi1: phi1, fullLongitude: fullLongitude)
        case .union, .intersection:
            return universe  // split by the callers before a query
        }
    }

    /// hpgeom's `query_disc`, nested, inclusive.
    func queryDisc(theta: Double, phi: Double, radius: Double) -> RangeSet {
        if radius >= HEALPixGrid.pi { return universe }
        var walk = HEALPixQueryWalk(order: order)
        let z0 = cos(theta)
        let cosRadius = cos(radius)
        let limits = walk.grids.map { grid -> (outer: Double, inner: Double) in
            let dr = grid.maximumPixelRadius
            return (radius + dr > HEALPixGrid.pi ? -1 : cos(radius + dr), radius - dr < 0 ? 1 : cos(radius - dr))
        }
        let grids = walk.grids
        return walk.run { pixel, o in
            let (z, pixelPhi, _) = grids[o].centre(pixel)
            let cosDistance = z0 * z + cos(phi - pixelPhi) * ((1 - z0 * z0) * (1 - z * z)).squareRoot()
            guard cosDistance > limits[o].outer else { return 0 }
            return cosDistance < cosRadius ? 1 : (cosDistance <= limits[o].inner ? 2 : 3)
        }
    }

    /// hpgeom's `query_polygon` (as `query_polygon_vec` reaches it), nested, inclusive; nil where
    /// hpgeom refuses the polygon (a degenerate corner or a turn the wrong way).
    func queryPolygon(_ vertices: [UnitVector3d]) -> RangeSet? {
        // numpy's `vector_to_angle` (θ, φ), then hpgeom's vectors from those angles.
        var angles = vertices.map { v -> (theta: Double, phi: Double) in
            let norm = ((v.x * v.x + v.y * v.y) + v.z * v.z).squareRoot()
            var phi = atan2(v.y, v.x)
            if phi < 0 { phi += HEALPixGrid.twoPi }
            return (acos(v.z / norm), phi)
        }
        // A closing vertex repeating the first is dropped.
        if let last = angles.last, angles.count > 1, abs(last.theta - angles[0].theta) < 1e-14, abs(last.phi - angles[0].phi) < 1e-14 {
            angles.removeLast()
        }
        let points = angles.map { HEALPixVector.fromAngles(theta: $0.theta, phi: $0.phi) }
        let count = points.count
        guard count >= 3 else { return nil }
        var normals: [HEALPixVector.V] = []
        var flip = 0.0
        for i in 0..<count {
            var normal = HEALPixVector.normalized(HEALPixVector.cross(points[i], points[(i + 1) % count]))
            let handedness = HEALPixVector.dot(normal, points[(i + 2) % count])
            if abs(handedness) < 1e-10 { return nil }
            if i == 0 {
                flip = handedness < 0 ? -1 : 1
            } else if flip * handedness < 0 {
                return nil
            }
            normal = (normal.0 * flip, normal.1 * flip, normal.2 * flip)
            normals.append(normal)
        }
        var radii = [Double](repeating: HEALPixGrid.halfPi, count: count)
        let (centre, cosRadius) = Self.enclosingCircle(points)
        normals.append(centre)
        radii.append(acos(cosRadius))
        return queryMultidisc(normals: normals, radii: radii)
    }

    /// hpgeom's `query_multidisc`, nested, inclusive: the pixels that may meet every disc.
    func queryMultidisc(normals: [HEALPixVector.V], radii: [Double]) -> RangeSet {
        var walk = HEALPixQueryWalk(order: order)
        let limits = walk.grids.map { grid -> [(Double, Double, Double)] in
            let dr = grid.maximumPixelRadius
            return radii.map { r in (r + dr > HEALPixGrid.pi ? -1 : cos(r + dr), cos(r), r - dr < 0 ? 1 : cos(r - dr)) }
        }
        let grids = walk.grids
        return walk.run { pixel, o in
            let centre = grids[o].centreVector(pixel)
            var zone = 3
            for (i, normal) in normals.enumerated() {
                let cosDistance = HEALPixVector.dot(centre, normal)
                let (l0, l1, l2) = limits[o][i]
                if zone > 0, cosDistance < l0 {
                    zone = 0
                } else if zone > 1, cosDistance < l1 {
                    zone = 1
                } else if zone > 2, cosDistance < l2 {
                    zone = 2
                }
                if zone == 0 { return 0 }
            }
            return zone
        }
    }

    /// hpgeom's smallest-enclosing-circle search over a polygon's vertices (`find_enclosing_circle`):
    /// the centre and the cosine of the radius.
    static func enclosingCircle(_ points: [HEALPixVector.V]) -> (HEALPixVector.V, Double) {
        func add(_ a: HEALPixVector.V, _ b: HEALPixVector.V) -> HEALPixVector.V { (a.0 + b.0, a.1 + b.1, a.2 + b.2) }
        func subtract(_ a: HEALPixVector.V, _ b: HEALPixVector.V) -> HEALPixVector.V { (a.0 - b.0, a.1 - b.1, a.2 - b.2) }
        func circle(through q1: Int, _ q2: Int) -> (HEALPixVector.V, Double) {
            var centre = HEALPixVector.normalized(add(points[q1], points[q2]))
            var cosRadius = HEALPixVector.dot(points[q1], centre)
            for i in 0..<q1 where HEALPixVector.dot(points[i], centre) < cosRadius {
                centre = HEALPixVector.normalized(HEALPixVector.cross(subtract(points[q1], points[i]), subtract(points[q2], points[i])))
                cosRadius = HEALPixVector.dot(points[i], centre)
                if cosRadius < 0 {
                    centre = (-centre.0, -centre.1, -centre.2)
                    cosRadius = -cosRadius
                }
            }
            return (centre, cosRadius)
        }
        func circle(through q: Int) -> (HEALPixVector.V, Double) {
            var centre = HEALPixVector.normalized(add(points[0], points[q]))
            var cosRadius = HEALPixVector.dot(points[0], centre)
            for i in 1..<q where HEALPixVector.dot(points[i], centre) < cosRadius {
                (centre, cosRadius) = circle(through: i, q)
            }
            return (centre, cosRadius)
        }
        var centre = HEALPixVector.normalized(add(points[0], points[1]))
        var cosRadius = HEALPixVector.dot(points[0], centre)
        for i in 2..<points.count where HEALPixVector.dot(points[i], centre) < cosRadius {
            (centre, cosRadius) = circle(through: i)
        }
        return (centre, cosRadius)
    }

    /// hpgeom's `query_box`, nested, inclusive: a box bounded by parallels and meridians, its
    /// edges included.
    func queryBox(theta0: Double, theta1: Double, phi0: Double, phi1: Double, fullLongitude: Bool) -> RangeSet {
        let epsilon = 2.220446049250313e-16
        let twoPi = HEALPixGrid.twoPi
        // Rotating the longitudes to centre the box on π keeps its range from wrapping.
        let rotation = phi0 < phi1 ? Self.modulo(HEALPixGrid.pi - (phi0 + phi1) / 2.0, twoPi) : Self.modulo(-(phi0 + phi1) / 2.0, twoPi)
        let phi0Rotated = Self.modulo(phi0 + rotation, twoPi), phi1Rotated = Self.modulo(phi1 + rotation, twoPi)
        var walk = HEALPixQueryWalk(order: order)
        let radii = walk.grids.map(\.maximumPixelRadius)
        let grids = walk.grids
        func zone(_ value: Double, _ margin: Double, _ low: Double, _ high: Double) -> Int {
            let below = value - margin, above = value + margin
            guard above >= low - epsilon, below <= high + epsilon else { return 0 }
            if below >= low - epsilon, above <= high + epsilon { return 3 }
            return value >= low - epsilon && value <= high + epsilon ? 2 : 1
        }
        return walk.run { pixel, o in
            let (theta, phi) = grids[o].centreAngles(pixel)
            let thetaZone = zone(theta, radii[o], theta0, theta1)
            if fullLongitude || thetaZone == 0 { return fullLongitude ? thetaZone : 0 }
            let phiRotated = Self.modulo(phi + rotation, twoPi)
            return min(thetaZone, zone(phiRotated, radii[o] / sin(theta), phi0Rotated, phi1Rotated))
        }
    }
}
