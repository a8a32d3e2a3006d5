"""The interactive explorers the notebooks show, built on ipywidgets.

Each explorer returns an ipywidgets container whose controls and views are also reachable as
attributes (for tests, and for notebooks that drive a widget from code). Views are ``HTML``
widgets whose ``value`` is rebuilt on every change, so they work the same in JupyterLab, in
nbval and in a plain pytest process.
"""

from course_lib.widgets.broadcast import broadcast_explorer
from course_lib.widgets.cross_entropy import cross_entropy_explorer
from course_lib.widgets.explore import explore, widgets_work
from course_lib.widgets.fan_out import fan_out_explorer
from course_lib.widgets.handtrace import hand_trace
from course_lib.widgets.jacobian import jacobian_explorer
from course_lib.widgets.practice import practice_trainer
from course_lib.widgets.progress import download_bar
from course_lib.widgets.quiz import quiz_widget
from course_lib.widgets.saturation import depth_explorer
from course_lib.widgets.step_size import step_size_explorer
from course_lib.widgets.stepper import stepper

__all__ = [
    "download_bar",
    "broadcast_explorer",
    "cross_entropy_explorer",
    "depth_explorer",
    "explore",
    "fan_out_explorer",
    "hand_trace",
    "jacobian_explorer",
    "practice_trainer",
    "quiz_widget",
    "step_size_explorer",
    "stepper",
    "widgets_work",
]
