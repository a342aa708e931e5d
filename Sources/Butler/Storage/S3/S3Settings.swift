package import Foundation

/// Where an S3 datastore root is and how to reach it: the bucket and key prefix of an
/// `s3://BUCKET/PREFIX` root, the endpoint, region and credentials from the places AWS tools and
/// lsst-resources read them, in their order:
///
/// - endpoint: the repository's `datastore.s3.endpoint`, else `S3_ENDPOINT_URL` (as
///   lsst-resources), else AWS (`https://s3.<region>.amazonaws.com`, virtual-hosted);
///   a custom endpoint is addressed path-style (`<endpoint>/<bucket>/<key>`), as MinIO, Ceph
///   and moto expect;
/// - region: `datastore.s3.region`, else `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`;
/// - credentials: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else
///   the profile (`datastore.s3.profile`, else `AWS_PROFILE`, else `default`) of the shared
///   credentials file (`datastore.s3.credentialsFile`, else `AWS_SHARED_CREDENTIALS_FILE`, else
///   `~/.aws/credentials`); a profile or file named in `butler.yaml` takes precedence over the
///   variables. Secrets are
///   never written to `butler.yaml`.
package struct S3Settings: Sendable, Equatable {
    /// The bucket.
    package let bucket: String
    /// The key prefix every artifact path is under (no leading or trailing slash; may be empty).
    package let prefix: String
    /// `http` or `https`.
    package let scheme: String
    /// The endpoint's host.
    package let host: String
    /// The endpoint's port, when not the scheme's default.
    package let port: Int?
    /// Whether the bucket is in the path (`host/bucket/key`) rather than the host name.
    package let pathStyle: Bool
    /// The signing region.
    package let region: String
    /// The signing credentials.
    package let credentials: AWSCredentials
    /// How requests are retried.
    package var retry: RetryPolicy = .standard
    /// Objects at least this large are uploaded in parts of this size, in parallel.
    package var multipartThreshold: Int = 8 << 20

    /// The root URL (`s3://bucket/prefix`).
    package var location: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// Describes a bucket reached through explicit settings.
    package init(
        bucket: String, prefix: String, endpoint: URL?, region: String, credentials: AWSCredentials
    ) throws {
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.region = region
        self.credentials = credentials
        if let endpoint {
            guard let scheme = endpoint.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = endpoint.host, !host.isEmpty
            else {
                throw ButlerError(.configuration, "S3 endpoint \(endpoint.absoluteString) is not an http:// or https:// URL with a host")
            }
            self.scheme = scheme
            self.host = host
            self.port = endpoint.port
            self.pathStyle = true
        } else {
            self.scheme = "https"
            self.host = "s3.\(region).amazonaws.com"
            self.port = nil
            self.pathStyle = false
        }
    }

    /// The settings of a datastore root `s3://BUCKET[/PREFIX]`, completed from the repository's
    /// `datastore.s3` block and the environment.
    /// - Throws: ``ButlerError/Code/configuration`` for a malformed root, a malformed endpoint,
    ///   or no credentials anywhere (naming the places looked at).
    package static func resolve(
        root: String, options: RepositoryConfig.S3Options?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Settings {
        guard let (bucket, prefix) = parse(root) else {
            throw ButlerError(.configuration, "datastore root \(root) is not of the form s3://BUCKET[/PREFIX]")
        }
        let endpointText = options?.endpoint ?? environment["S3_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var endpoint: URL?
        if let endpointText {
            guard let url = URL(string: endpointText) else {
                throw ButlerError(.configuration, "S3 endpoint '\(endpointText)' is not a URL")
            }
            endpoint = url
        }
        let region = options?.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let credentials = try credentials(profile: options?.profile, file: options?.credentialsFile, environment: environment)
        var settings = try S3Settings(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, credentials: credentials)
        if let budget = options?.retryBudget { settings.retry.budget = budget }
        if let attempts = options?.maxAttempts { settings.retry.maxAttempts = max(attempts, 1) }
        if let threshold = options?.multipartThreshold {
            // S3 refuses parts under 5 MiB (but the last).
            guard threshold >= 5 << 20 else {
                throw ButlerError(.configuration, "datastore.s3.multipartThreshold \(threshold) is below S3's 5 MiB part minimum")
            }
            settings.multipartThreshold = threshold
        }
        return settings
    }

    /// The bucket and prefix of `s3://BUCKET[/PREFIX]`, or nil.
    package static func parse(_ root: String) -> (bucket: String, prefix: String)? {
        guard root.lowercased().hasPrefix("s3://") else { return nil }
        let rest = root.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty, bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
            return nil
        }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        return (String(bucket), prefix)
    }

    /// Credentials from the environment or a shared credentials file's profile.
    static func credentials(profile: String?, file configuredFile: String?, environment: [String: String]) throws -> AWSCredentials {
        if profile == nil, configuredFile == nil, let key = environment["AWS_ACCESS_KEY_ID"],
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty
        {
            return AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        let name = profile ?? environment["AWS_PROFILE"] ?? "default"
        let file =
            configuredFile ?? environment["AWS_SHARED_CREDENTIALS_FILE"]
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let profiles = parseINI(text)
            if let values = profiles[name], let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
                return AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: values["aws_session_token"])
            }
            if profile != nil || environment["AWS_PROFILE"] != nil {
                throw ButlerError(
                    .configuration, "profile '\(name)' in \(file) has no aws_access_key_id and aws_secret_access_key")
            }
        }
        throw ButlerError(
            .configuration,
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '\(name)' in \(file) (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)"
        )
    }

    /// Sections of an INI file (`[name]`, `key = value`, `#`/`;` comments).
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // The config file's form, `[profile NAME]`, read the same.
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        return sections
    }
}
