"""Speed and memory targets (``make bench``); kept out of the test suite on purpose."""
