"""``python -m course_lib.tensor``: print the Tensor engine's rule table, one op a line."""

from course_lib.tensor.ops import rule_table

print(rule_table())
