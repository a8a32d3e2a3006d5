"""Numbers as the course writes them: the one formatter (:mod:`~course_lib.numbers.formatting`)."""
