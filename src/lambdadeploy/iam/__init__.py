"""IAM documents, pure: the execution role (execution_role.py) and a CI user's policy (ci_policy.py)."""
