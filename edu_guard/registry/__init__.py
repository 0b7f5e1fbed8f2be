"""Registry (学籍与人员台账): organisation tree, children, enrollments, imports."""
