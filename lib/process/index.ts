export { runService, type RunServiceOptions, type ServiceProcess } from "./run-service.js";
export { whenLauncherGone, whenParentIsNot } from "./launcher.js";
