"""Jobs and runs with a simulated lifecycle (see ``model``) and scripted outcomes (see ``rules``)."""
