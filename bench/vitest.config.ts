import { turtlesProject } from "../vitest.shared";

export default turtlesProject("bench");
