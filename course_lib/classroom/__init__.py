"""The course for a class: nbgrader assignments made from the notebooks, released and graded.

:mod:`~course_lib.classroom.assignment` turns a course notebook into nbgrader's source
notebook; :mod:`~course_lib.classroom.nbgrader_course` runs nbgrader to release the students'
notebooks and to grade their submissions into a CSV. ``run.py release`` and ``run.py grade``
call them (``python -m course_lib.classroom --help``). The top layer: it imports the teaching
layer's answer key, and nbgrader (the ``grade`` extra) only when it runs nbgrader.
"""
