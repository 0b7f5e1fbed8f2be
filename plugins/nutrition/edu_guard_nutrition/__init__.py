"""edu_guard plugin: 农村义务教育学生营养改善计划: per school day for pupils of pilot schools."""
