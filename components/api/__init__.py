"""Partner APIs: API Gateway built from the OpenAPI documents in ``apis/``."""
