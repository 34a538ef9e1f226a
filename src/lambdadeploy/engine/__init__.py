"""The deploy engine: read remote state (remote.py), plan (plan.py, pure; steps.py),
check before writing (preflight.py), execute (execute.py, rollout.py), and the
workflows that tie them together per command (deploy.py)."""
