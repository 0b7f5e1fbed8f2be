"""edu_guard plugin: 雨露计划 (Rain and Dew plan): aid to vocational students of 脱贫 and monitored households."""
