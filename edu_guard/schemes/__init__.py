"""Aid schemes (资助项目): the declaration every scheme gives, and the national schemes
written as built-in plugins (:mod:`edu_guard.schemes.national`)."""
