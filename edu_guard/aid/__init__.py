"""Student aid (学生资助): terms, lists, payments, statistics and the 应助尽助 check."""
