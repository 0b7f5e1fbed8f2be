"""edu_guard: a county education bureau's system for 控辍保学 (dropout control),
学生资助 (student aid), 送教上门 (education delivered at home) and official letters."""

__version__ = "0.1.0"

# Chinese validation messages must be in place before any schema is defined: marshmallow
# copies a field's and a validator's messages when the schema class is created.
from edu_guard import messages as _messages  # noqa: E402

_messages.install()

from edu_guard.hookspecs import hookimpl  # noqa: E402

# The app factory is ``edu_guard.app.create_app``: importing the package (or
# ``edu_guard.hookspecs``, as a plugin does) must not build the whole app's import graph.
__all__ = ["__version__", "hookimpl"]
