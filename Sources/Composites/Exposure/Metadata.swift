/// Ordered FITS-like header cards (`PropertyList` in afw): keys keep their order, a key may
/// carry a comment, values are JSON-shaped.
public struct Metadata: Sendable, Hashable, Codable {
    /// One header card.
    public struct Card: Sendable, Hashable, Codable {
        /// Keyword.
        public var key: String
        /// Value.
        public var value: JSONValue
        /// Comment.
        public var comment: String

        /// A card.
        public init(key: String, value: JSONValue, comment: String = "") {
            self.key = key
            self.value = value
            self.comment = comment
        }
    }

    /// Cards in order.
    public private(set) var cards: [Card] = []

    /// Empty metadata.
    public init() {}

    /// The value of `key` (the last card if repeated).
    public subscript(key: String) -> JSONValue? {
        cards.last { $0.key == key }?.value
    }

    /// Sets `key` (replacing an existing card in place, or appending).
    public mutating func set(_ key: String, _ value: JSONValue, comment: String = "") {
        if let index = cards.firstIndex(where: { $0.key == key }) {
            cards[index].value = value
            if !comment.isEmpty { cards[index].comment = comment }
        } else {
            cards.append(Card(key: key, value: value, comment: comment))
        }
    }

    /// Removes every card with `key`.
    public mutating func remove(_ key: String) {
        cards.removeAll { $0.key == key }
    }

    /// Keys in order.
    public var keys: [String] { cards.map(\.key) }
}
