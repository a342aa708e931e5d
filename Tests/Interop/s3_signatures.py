#!/usr/bin/env python3
"""botocore's AWS Signature Version 4 for S3, on generated requests, for Tests/ButlerTests.

Usage: s3_signatures.py COUNT SEED. Prints one JSON object per line: the request (method, scheme,
host, port, path as sent, query pairs, headers, body as hex, credentials, region, UNIX time) and
what botocore makes of it with its clock set to that time — the headers S3SigV4Auth adds
(`signed`) and the URL S3SigV4QueryAuth presigns for 3600 s (`presigned`).
"""
import datetime
import hashlib
import json
import random
import sys
from urllib.parse import quote

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_CHARACTERS = "abcXYZ019-_.~/ !$&'()*+,;=:@%?#[]{}\"<>^`|\\é漢字🙂"


def random_text(rng, alphabet, low, high):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def request(rng):
    method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["127.0.0.1", "s3.us-east-1.amazonaws.com", "Bucket.S3.Example.ORG", "localhost"])
    port = rng.choice([None, 80, 443, 9000, 5555])
    bucket = random_text(rng, "abcdefghijklmnopqrstuvwxyz0123456789-", 3, 12)
    key = random_text(rng, KEY_CHARACTERS, 1, 40)
    path = "/" + bucket + "/" + quote(key, safe="/~")
    query = []
    # Distinct names: S3's operations never repeat one, and botocore's presigner keeps only the
    # first of a repeated name.
    for name in rng.sample(["uploadId", "partNumber", "list-type", "prefix", "delimiter", "continuation-token", "x-id", "tagging"],
                           rng.randint(0, 3)):
        query.append([name, random_text(rng, KEY_CHARACTERS, 0, 12)])
    headers = []
    for name in rng.sample(["Content-Type", "Range", "x-amz-meta-owner", "Content-MD5", "x-amz-checksum-sha256",
                            "If-None-Match", "User-Agent", "Expect", "Cache-Control"], rng.randint(0, 5)):
        value = random_text(rng, "abc XYZ=/+;,  \t09", 1, 20)
        headers.append([name, value])
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 1, 17, 1000])))
    token = random_text(rng, "ABCDEFabcdef0123456789/+=", 20, 40) if rng.random() < 0.3 else None
    credentials = ["AKIA" + random_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16),
                   random_text(rng, "ABCDEFabcdef0123456789/+", 40, 40), token]
    region = rng.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "local"])
    when = rng.randrange(946684800, 4102444800)
    return {"method": method, "scheme": scheme, "host": host, "port": port, "path": path, "query": query,
            "headers": headers, "body": body.hex(), "credentials": credentials, "region": region, "time": when}


def url(case):
    netloc = case["host"] + (f":{case['port']}" if case["port"] is not None else "")
    text = f"{case['scheme']}://{netloc}{case['path']}"
    if case["query"]:
        text += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in case["query"])
    return text


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        case = request(rng)
        when = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
        auth.get_current_datetime = lambda: when
        access, secret, token = case["credentials"]
        credentials = Credentials(access, secret, token)
        body = bytes.fromhex(case["body"])
        signed = AWSRequest(method=case["method"], url=url(case), headers=dict(case["headers"]), data=body)
        auth.S3SigV4Auth(credentials, "s3", case["region"]).add_auth(signed)
        presigned = AWSRequest(method=case["method"], url=url(case), headers=dict(case["headers"]))
        auth.S3SigV4QueryAuth(credentials, "s3", case["region"], expires=3600).add_auth(presigned)
        case["payload_hash"] = hashlib.sha256(body).hexdigest()
        case["signed"] = {name: value for name, value in signed.headers.items()
                          if name.lower() in ("authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token")}
        case["presigned"] = presigned.url
        print(json.dumps(case))


if __name__ == "__main__":
    main()
