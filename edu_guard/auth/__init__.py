"""Access and audit: users, roles, scoping (数据权限) and the audit log."""
