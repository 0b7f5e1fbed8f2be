"""edu_guard plugin: 较少民族学生生活补助: living allowance for pupils of the province's smaller ethnic groups."""
