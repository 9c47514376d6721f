"""lmbench: declarative LM programs with a notebook workbench."""
