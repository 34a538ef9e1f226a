"""lambda.yaml: render and parse (load.py), check (validate.py with the field table of
rules.py), and the frozen model everything else reads (model.py)."""

from .load import DEFAULT_CONFIG, RenderContext, load, render
from .model import FunctionConfig, Project, SmokeTest, Trigger

__all__ = ["DEFAULT_CONFIG", "FunctionConfig", "Project", "RenderContext", "SmokeTest", "Trigger", "load", "render"]
