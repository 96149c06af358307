#!/usr/bin/env python3
"""Independent reference vector for src/aws/eks-token.ts.

Produces EKS bearer tokens with botocore, the way `aws eks get-token` does
(awscli/customizations/eks/get_token.py): an STS client whose GetCallerIdentity
request gets the `x-k8s-aws-id` header injected before signing, presigned with
`generate_presigned_url(..., ExpiresIn=60, HttpMethod='GET')`, then
`k8s-aws-v1.` + urlsafe base64 without padding.

Time is frozen by replacing the clock botocore's SigV4 signer reads
(`botocore.auth.get_current_datetime`). Credentials are the public AWS example
pair. No network access happens: presigning is local.

When awscli is importable, the real `aws eks get-token` command is also run
in-process (same frozen clock) and its stdout is recorded, so the TypeScript
ExecCredential formatting can be compared with the CLI byte for byte.

Usage: python3 test/vectors/eks-token-vector.py > test/vectors/eks-token.json
"""
import base64
import contextlib
import datetime
import io
import json
import os
import sys

# Isolate from any local AWS configuration before botocore loads it.
for var in list(os.environ):
    if var.startswith("AWS_"):
        del os.environ[var]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//session+token/with=reserved&chars"
REGION = "eu-west-1"
# One region per partition DNS suffix, to pin the STS endpoint host and credential scope.
PARTITION_REGIONS = [
    "us-east-1",
    "cn-north-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
]
CLUSTER = "prod-mesh"
SIGNING_DATE = datetime.datetime(2025, 3, 14, 9, 26, 53)  # naive UTC, as botocore uses
K8S_AWS_ID_HEADER = "x-k8s-aws-id"


def frozen_now(remove_tzinfo=True):
    return SIGNING_DATE if remove_tzinfo else SIGNING_DATE.replace(tzinfo=datetime.timezone.utc)


botocore.auth.get_current_datetime = frozen_now


def sts_client(session_token, region=REGION):
    session = botocore.session.get_session()
    client = session.create_client(
        "sts",
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=session_token,
    )

    def retrieve_id(params, context, **_):
        if K8S_AWS_ID_HEADER in params:
            context[K8S_AWS_ID_HEADER] = params.pop(K8S_AWS_ID_HEADER)

    def inject_header(request, **_):
        if K8S_AWS_ID_HEADER in request.context:
            request.headers[K8S_AWS_ID_HEADER] = request.context[K8S_AWS_ID_HEADER]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve_id)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", inject_header)
    return client


def token_for(session_token, region=REGION):
    url = sts_client(session_token, region).generate_presigned_url(
        "get_caller_identity",
        Params={K8S_AWS_ID_HEADER: CLUSTER},
        ExpiresIn=60,
        HttpMethod="GET",
    )
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")
    return {"url": url, "token": token}


def cli_output():
    """stdout of the real `aws eks get-token` (awscli v1), or None when awscli is absent."""
    try:
        import awscli.clidriver
        import awscli.customizations.eks.get_token as get_token
    except ImportError:
        return None
    get_token.get_current_datetime = frozen_now
    os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = awscli.clidriver.create_clidriver().main(
            ["eks", "get-token", "--cluster-name", CLUSTER, "--region", REGION, "--output", "json"]
        )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        del os.environ[var]
    if rc != 0:
        raise SystemExit(f"aws eks get-token exited {rc}")
    return {"awscliVersion": awscli.__version__, "stdout": out.getvalue()}


def main():
    without_token = token_for(None)
    with_token = token_for(SESSION_TOKEN)
    cli = cli_output()
    if cli is not None:
        printed = json.loads(cli["stdout"])
        if printed["status"]["token"] != without_token["token"]:
            raise SystemExit("awscli and botocore disagree on the token")
    vector = {
        "generatedBy": "test/vectors/eks-token-vector.py",
        "botocoreVersion": botocore.__version__,
        "input": {
            "accessKeyId": ACCESS_KEY,
            "secretAccessKey": SECRET_KEY,
            "sessionToken": SESSION_TOKEN,
            "region": REGION,
            "clusterName": CLUSTER,
            "signingDate": SIGNING_DATE.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "withoutSessionToken": without_token,
        "withSessionToken": with_token,
        "partitions": {region: token_for(None, region) for region in PARTITION_REGIONS},
        "awsEksGetToken": cli,
    }
    json.dump(vector, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
