"""Joint projects: the co-built project catalogue, yearly review rounds and funding decisions (联合攻关, 项目目录, 评审, 资助)."""
