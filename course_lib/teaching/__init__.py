"""The teaching layer: hand exercises and their answer key, checked with feedback that names
the slip (``hand_exercise``: how an answer is judged; ``answers``: every notebook's exercises;
``hand_check``: the ``check(key, answer)`` a notebook calls; ``review_quiz``: the review's
multiple-choice questions)."""
