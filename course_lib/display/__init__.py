"""What the course shows: graph drawings as SVG (:mod:`~course_lib.display.draw`), their text
alternatives and the accessible palette (:mod:`~course_lib.display.accessible`), and where the
code runs (:mod:`~course_lib.display.frontend`)."""
