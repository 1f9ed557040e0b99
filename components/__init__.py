"""The retail platform's components.

Importing this package is cheap on purpose: the policy pack imports
``components.common.conventions`` without pulling in the AWS SDK.
"""
