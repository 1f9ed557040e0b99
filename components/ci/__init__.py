"""CI: the GitHub Actions OIDC provider and the roles the repository's workflows assume
(.github/workflows/preview.yml and deploy.yml), so no AWS key is ever stored in GitHub."""
