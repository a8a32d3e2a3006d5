"""``python -m course_lib.classroom``: release the course to a class, grade what comes back.

release DIR                      the students' notebooks, into DIR (an empty folder)
release DIR --nbgrader-course    an nbgrader course folder in DIR instead (the source
                                 notebooks, with solutions and hidden tests, and its
                                 nbgrader_config.py), for nbgrader on a JupyterHub
grade SUBMISSIONS --out FILE [--feedback DIR]
                                 grade SUBMISSIONS/<student>/<notebook>.ipynb into the CSV
                                 FILE (student, notebook, exercise, points, max_points),
                                 nbgrader's feedback pages into DIR/<student>/
"""

from __future__ import annotations

import sys
from pathlib import Path

from course_lib.classroom.nbgrader_course import ClassroomError, grade, release, write_course


def main(argv: list[str]) -> int:
    try:
        if len(argv) in (2, 3) and argv[0] == "release":
            out = Path(argv[1])
            if argv[2:] == ["--nbgrader-course"]:
                names = write_course(out)
                print(f"wrote the nbgrader course folder {out}: {len(names)} assignments")
                print(f"next, in {out}: nbgrader generate_assignment NAME (one per notebook)")
                return 0
            if argv[2:]:
                raise ClassroomError(f"release: unknown option {argv[2]!r}")
            written = release(out)
            print(f"released {len(written)} notebooks into {out}")
            return 0
        if len(argv) >= 4 and argv[0] == "grade" and argv[2] == "--out":
            feedback = None
            if argv[4:6] and argv[4] == "--feedback" and len(argv) == 6:
                feedback = Path(argv[5])
            elif argv[4:]:
                raise ClassroomError(f"grade: unknown arguments {' '.join(argv[4:])}")
            problems: list = []
            rows = grade(Path(argv[1]), Path(argv[3]), feedback=feedback, problems=problems)
            students = len({r.student for r in rows})
            total = sum(r.points for r in rows)
            print(f"graded {students} students, {len(rows)} rows ({total:g} points) into {argv[3]}")
            for problem in problems:
                print(f"note: {problem}")
            return 0
    except ClassroomError as error:
        print(f"classroom: {error}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
