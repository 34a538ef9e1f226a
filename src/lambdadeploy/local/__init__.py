"""The sandbox endpoint and running function code on this machine.

sandbox.py runs moto's server on loopback behind guard.py, the front door every request
passes: owner-only access (credentials.py, sigv4.py), then the operation read with botocore's
model (wire.py, operations.py) and checked against its limits (limits.py), AWS's semantic
rules (behaviour.py, on world.py's view of moto's state) and AWS's timing (timing.py).
seam.py makes moto's Invoke run the deployed zip through runner.py, from the extracted
artifacts of artifacts.py; endpoints.py tells that code how to call the sandbox back.
"""
