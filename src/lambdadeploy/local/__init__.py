"""Running function code on this machine: the sandbox endpoint (sandbox.py, moto's server
whose Invoke runs the deployed zip), the runner that runs one invocation like Lambda
(runner.py) and the cache of extracted artifacts it runs from (artifacts.py)."""
