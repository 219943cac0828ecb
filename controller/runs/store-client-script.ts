/**
 * The store client of the platform's Python steps: the `init` image's boto3 is Debian's, older than
 * the env names AWS_ENDPOINT_URL_S3 and AWS_REGION the platform gives runs, so both are passed
 * here; an S3-compatible store is addressed by path, as its Service name is no bucket's host.
 */
export const S3_CLIENT = [
  'from botocore.config import Config',
  'endpoint = os.environ.get("AWS_ENDPOINT_URL_S3")',
  's3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION"), endpoint_url=endpoint,',
  '    config=Config(s3={"addressing_style": "path"}) if endpoint else None)',
];
