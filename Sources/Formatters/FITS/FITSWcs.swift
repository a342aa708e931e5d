public import Composites

/// FITS header cards ↔ ``Wcs``, in afw's convention: the header WCS is for the HDU's own
/// 1-based pixel grid, `LTV1/2 = −xy0`, and an `A` alternate LINEAR WCS maps to parent pixels.
public enum FITSWcs {
    /// The image origin recorded in a header: from `LTV1/2`, else from the `A` WCS, else 0.
    public static func xy0(from header: Metadata) -> Point2I {
        let limit = -FileLimits.maxOrigin...FileLimits.maxOrigin
        if let ltv1 = FileLimits.int(header["LTV1"]?.doubleValue.map { -$0.rounded() }, in: limit),
            let ltv2 = FileLimits.int(header["LTV2"]?.doubleValue.map { -$0.rounded() }, in: limit)
        {
            return Point2I(ltv1, ltv2)
        }
        if header["CTYPE1A"]?.stringValue == "LINEAR",
            let x = FileLimits.int(header["CRVAL1A"]?.doubleValue.map { $0.rounded() }, in: limit),
            let y = FileLimits.int(header["CRVAL2A"]?.doubleValue.map { $0.rounded() }, in: limit)
        {
            return Point2I(x, y)
        }
        return Point2I(0, 0)
    }

    /// The celestial TAN, TAN-SIP or STG WCS in a header, in parent coordinates, or nil if the
    /// header has none.
    public static func wcs(from header: Metadata, xy0: Point2I) -> Wcs? {
        guard let ctype1 = header["CTYPE1"]?.stringValue, let ctype2 = header["CTYPE2"]?.stringValue,
            ctype1.hasPrefix("RA---"), ctype2.hasPrefix("DEC--"),
            let projection = WcsProjection(rawValue: String(ctype1.dropFirst(5).prefix(3))),
            ctype2.dropFirst(5).hasPrefix(projection.rawValue),
            let crpix1 = header["CRPIX1"]?.doubleValue, let crpix2 = header["CRPIX2"]?.doubleValue,
            let crval1 = header["CRVAL1"]?.doubleValue, let crval2 = header["CRVAL2"]?.doubleValue
        else { return nil }
        var cd: [[Double]]
        if let cd11 = header["CD1_1"]?.doubleValue {
            cd = [[cd11, header["CD1_2"]?.doubleValue ?? 0], [header["CD2_1"]?.doubleValue ?? 0, header["CD2_2"]?.doubleValue ?? 0]]
        } else {
            let cdelt1 = header["CDELT1"]?.doubleValue ?? 1, cdelt2 = header["CDELT2"]?.doubleValue ?? 1
            cd = [
                [cdelt1 * (header["PC1_1"]?.doubleValue ?? 1), cdelt1 * (header["PC1_2"]?.doubleValue ?? 0)],
                [cdelt2 * (header["PC2_1"]?.doubleValue ?? 0), cdelt2 * (header["PC2_2"]?.doubleValue ?? 1)],
            ]
        }
        var wcs = Wcs(
            crpix: Point2D(crpix1 - 1 + Double(xy0.x), crpix2 - 1 + Double(xy0.y)),
            crval: SpherePoint(ra: crval1, dec: crval2), cd: cd, projection: projection)
        if projection == .gnomonic, ctype1.hasSuffix("-SIP") {
            wcs.sipA = polynomial("A", header)
            wcs.sipB = polynomial("B", header)
            wcs.sipAP = polynomial("AP", header)
            wcs.sipBP = polynomial("BP", header)
        }
        return wcs
    }

    private static func polynomial(_ name: String, _ header: Metadata) -> SIPPolynomial? {
        guard let order = FileLimits.int(header["\(name)_ORDER"]?.intValue, in: 0...FileLimits.maxSIPOrder) else { return nil }
        var result = SIPPolynomial(order: order)
        for p in 0...order {
            for q in 0...(order - p) {
                if let value = header["\(name)_\(p)_\(q)"]?.doubleValue { result[p, q] = value }
            }
        }
        return result
    }

    /// Header cards for `wcs` on an image whose first pixel is parent `xy0`, plus `LTV` and
    /// the `A` alternate WCS that give `xy0` back.
    public static func cards(for wcs: Wcs?, xy0: Point2I) -> [(String, JSONValue, String)] {
        var cards: [(String, JSONValue, String)] = []
        if let wcs {
            let suffix = wcs.hasDistortion ? "-SIP" : ""
            let code = wcs.projection.rawValue
            let name = wcs.projection == .gnomonic ? "Gnomonic projection" : "Stereographic projection"
            cards += [
                ("CTYPE1", .string("RA---" + code + suffix), name),
                ("CTYPE2", .string("DEC--" + code + suffix), name),
                ("CRPIX1", .double(wcs.crpix.x + 1 - Double(xy0.x)), "Reference pixel (1-based, this HDU)"),
                ("CRPIX2", .double(wcs.crpix.y + 1 - Double(xy0.y)), "Reference pixel (1-based, this HDU)"),
                ("CRVAL1", .double(wcs.crval.ra), "RA of reference pixel (deg)"),
                ("CRVAL2", .double(wcs.crval.dec), "Dec of reference pixel (deg)"),
                ("CD1_1", .double(wcs.cd[0][0]), ""), ("CD1_2", .double(wcs.cd[0][1]), ""),
                ("CD2_1", .double(wcs.cd[1][0]), ""), ("CD2_2", .double(wcs.cd[1][1]), ""),
                ("CUNIT1", "deg", ""), ("CUNIT2", "deg", ""),
                ("RADESYS", "ICRS", ""),
            ]
            for (name, polynomial) in [("A", wcs.sipA), ("B", wcs.sipB), ("AP", wcs.sipAP), ("BP", wcs.sipBP)] {
                guard let polynomial else { continue }
                cards.append(("\(name)_ORDER", .int(Int64(polynomial.order)), "SIP polynomial order"))
                for p in 0...polynomial.order {
                    for q in 0...(polynomial.order - p) where polynomial[p, q] != 0 {
                        cards.append(("\(name)_\(p)_\(q)", .double(polynomial[p, q]), ""))
                    }
                }
            }
        }
        cards += [
            ("LTV1", .double(Double(-xy0.x)), "-x0: parent column of the first pixel, negated"),
            ("LTV2", .double(Double(-xy0.y)), "-y0: parent row of the first pixel, negated"),
            ("CTYPE1A", "LINEAR", "Parent pixel coordinates"), ("CTYPE2A", "LINEAR", "Parent pixel coordinates"),
            ("CRPIX1A", .double(1), ""), ("CRPIX2A", .double(1), ""),
            ("CRVAL1A", .double(Double(xy0.x)), ""), ("CRVAL2A", .double(Double(xy0.y)), ""),
            ("CUNIT1A", "PIXEL", ""), ("CUNIT2A", "PIXEL", ""),
        ]
        return cards
    }

    /// True for every keyword ``xy0(from:)`` and ``wcs(from:xy0:)`` read: a component get of
    /// `wcs`, `bbox` or `xy0` parses only these cards of the image header.
    static func isWcsKeyword(_ key: String) -> Bool {
        // By first letter first: this runs on every card of the header.
        switch key.utf8.first {
        case UInt8(ascii: "C"): return key.hasPrefix("CTYPE") || key.hasPrefix("CRPIX") || key.hasPrefix("CRVAL") || key.hasPrefix("CD")
        case UInt8(ascii: "P"): return key.hasPrefix("PC")
        case UInt8(ascii: "L"): return key.hasPrefix("LTV")
        case UInt8(ascii: "A"): return key.hasPrefix("A_") || key.hasPrefix("AP_")
        case UInt8(ascii: "B"): return key.hasPrefix("B_") || key.hasPrefix("BP_")
        default: return false
        }
    }

    /// Keywords that describe WCS, image geometry or compression, left out of metadata.
    static func isStructural(_ key: String) -> Bool {
        let exact: Set<String> = [
            "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME",
            "EXTTYPE", "INHERIT", "BZERO", "BSCALE", "CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2",
            "CD1_1", "CD1_2", "CD2_1", "CD2_2", "CUNIT1", "CUNIT2", "RADESYS", "EQUINOX", "LTV1", "LTV2",
            "CTYPE1A", "CTYPE2A", "CRPIX1A", "CRPIX2A", "CRVAL1A", "CRVAL2A", "CUNIT1A", "CUNIT2A", "CDELT1", "CDELT2",
            "PC1_1", "PC1_2", "PC2_1", "PC2_2", "A_ORDER", "B_ORDER", "AP_ORDER", "BP_ORDER", "LONGSTRN", "CHECKSUM", "DATASUM",
        ]
        if exact.contains(key) { return true }
        for prefix in [
            "A_", "B_", "AP_", "BP_", "ZIMAGE", "ZBITPIX", "ZNAXIS", "ZTILE", "ZCMPTYPE", "ZNAME", "ZVAL", "ZQUANTIZ", "ZDITHER", "ZSIMPLE",
            "ZEXTEND", "ZPCOUNT", "ZGCOUNT", "ZTENSION", "ZHECKSUM", "ZDATASUM", "TTYPE", "TFORM", "TFIELDS", "MP_",
        ] where key.hasPrefix(prefix) {
            return true
        }
        return false
    }
}
