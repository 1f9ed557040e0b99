"""The edge: CloudFront in front of an internet-facing ALB, both behind AWS WAF.

``Cdn`` (CloudFront) serves static assets from S3 through Origin Access Control and forwards
the shop's service paths to the ``LoadBalancer`` over HTTPS with a secret origin header;
``WebFirewall`` puts managed rules and a per-IP rate limit on both (a CLOUDFRONT ACL in
us-east-1, a REGIONAL ACL on the ALB). None of them depends on the Kubernetes cluster.
"""
