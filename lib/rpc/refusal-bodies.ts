// connect-es answers a request for an RPC path with the wrong HTTP method (405) or a media type
// no protocol speaks (415) with an empty body: a caller sees a bare status and no reason. Every
// other error on these ports is the JSON `{"code", "message"}` body (README, "Errors"), so these
// two get one as well, naming what would have been accepted. Connect decides; this only explains.
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { wrapHandler } from "./wrapped-handler.js";

/** The media types of the protocols connect-es serves (Connect, gRPC, gRPC-Web), for the 415 message. */
const SPOKEN = "application/json or application/proto (Connect), application/grpc[+proto|+json], application/grpc-web[+proto|+json]";

export function explainRefusals(handler: UniversalHandler): UniversalHandler {
  const explained = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    if (res.body !== undefined || (res.status !== 405 && res.status !== 415)) return res;
    const path = `/${handler.service.typeName}/${handler.method.name}`;
    const header = new Headers(res.header);
    let error: ConnectError;
    if (res.status === 405) {
      // Unimplemented, as the REST routes answer a method they do not serve
      error = new ConnectError(`${req.method} is not allowed on ${path}; use ${handler.allowedMethods.join(", ")}`, Code.Unimplemented);
      header.set("allow", handler.allowedMethods.join(", "));
    } else {
      const type = req.header.get("content-type") || "(none)";
      error = new ConnectError(`Content-Type ${type} is not one ${path} speaks: send ${SPOKEN}`, Code.InvalidArgument);
    }
    const body = errorToJsonBytes(error, {});
    header.set("content-type", "application/json");
    header.set("content-length", String(body.byteLength));
    return {
      status: res.status,
      header,
      body: (async function* () {
        yield body;
      })(),
    };
  };
  return wrapHandler(handler, explained);
}
