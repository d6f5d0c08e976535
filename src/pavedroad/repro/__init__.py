"""The clean room: the project rebuilt from what is declared and committed only, and run there.

"It works on my laptop" fails because the laptop carries state nobody declared: packages
installed by hand, files never committed, variables in a shell, a user site-packages. A run
(`runner.reproduce`) copies the files git tracks into a temporary room (`files`, `room`), builds
an environment with uv from the lock or the declared requirements for an interpreter the
contract allows (`interpreters`, `environment`, cached per lock and Python), installs the
project as a wheel built from the copy (`wheel`), and then, with only an allowlist of
environment variables (`variables`): imports the package and calls every entry point with
--help (`probe`), runs the test command (`suite`), and evaluates the model against the local
run's metrics (`evaluate`, with `overlay` for the evaluation worker's own needs). What the
project's code read that the room lacks is recorded as it happens (`audit`) and explained
(`diagnose`). Every subprocess runs in its own session and is killed with its descendants when
the run ends or is interrupted (`processes`).

The result is an `outcome.Outcome`, facts only: the REP checks (pavedroad.checks.rep) judge it.
`record` keeps the last one for `paved check`; `attestation` writes what passed, and
`dockerfile` the container recipe of the same steps.
"""
