export { runService, type RunServiceOptions, type ServiceProcess } from "./run-service.js";
