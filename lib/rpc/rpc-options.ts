import { getOption, type DescMethod } from "@bufbuild/protobuf";
import {
  answers_with_credential,
  browser_page,
  BrowserPage,
  http_success_status,
  no_api_key,
} from "../../gen/reviewflow/options/v1/options_pb.js";

export { BrowserPage };

/**
 * Our own facts about one RPC, from its `(reviewflow.options.v1.*)` options in the .proto
 * (proto/reviewflow/options/v1/options.proto says what each means). Code asks the method's
 * descriptor, never a list of method names, the way lib/rest reads `google.api.http`.
 */
export interface RpcOptions {
  /** Callable without an API key: the request carries its own one-time proof. */
  readonly noApiKey: boolean;
  /** The HTTP status of a successful REST answer (200 unless the rpc says otherwise). */
  readonly httpSuccessStatus: number;
  /** The consent page the gateway serves for it; UNSPECIFIED for the plain JSON RPCs. */
  readonly browserPage: BrowserPage;
  /** The answer carries a live credential: no cache may keep it. */
  readonly answersWithCredential: boolean;
}

// read once per method: the auth and no-store interceptors ask on every call, and getOption
// decodes the option from the descriptor's unknown fields each time
const cache = new WeakMap<DescMethod, RpcOptions>();

export function rpcOptions(method: DescMethod): RpcOptions {
  let options = cache.get(method);
  if (!options) {
    const status = getOption(method, http_success_status);
    if (status !== 0 && (status < 200 || status > 299)) {
      throw new Error(
        `${method.parent.typeName}/${method.name}: (reviewflow.options.v1.http_success_status) must be a 2xx status, not ${status}`,
      );
    }
    options = Object.freeze({
      noApiKey: getOption(method, no_api_key),
      httpSuccessStatus: status || 200,
      browserPage: getOption(method, browser_page),
      answersWithCredential: getOption(method, answers_with_credential),
    });
    cache.set(method, options);
  }
  return options;
}
