"""Numbers as the course writes and reads them: the one formatter
(:mod:`~course_lib.numbers.formatting`) and the one check of a number a user passes in
(:mod:`~course_lib.numbers.checking`)."""
