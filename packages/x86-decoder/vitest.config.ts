import { turtlesProject } from "../../vitest.shared";

export default turtlesProject("x86-decoder");
