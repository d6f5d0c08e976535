"""Evaluating the model on the golden dataset, in a subprocess that imports the project's code.

`protocol` is the JSON both sides exchange; `worker` runs in the subprocess (model loading,
batches, predictions, latency, memory, metrics); `run` starts it from the tool's process and
turns its outcome into the facts that the MOD and PRF checks judge.
"""
