import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

/**
 * A gRPC (h2c) client for another reviewflow service. Services never import each other: they
 * talk over gRPC. `apiKey` is sent as the bearer key on every call unless a call sets its own.
 */
export function createServiceClient<T extends DescService>(
  service: T,
  baseUrl: string,
  options: { apiKey?: string; interceptors?: Interceptor[] } = {},
): Client<T> {
  const auth: Interceptor = (next) => (req) => {
    if (options.apiKey && !req.header.has("authorization")) req.header.set("authorization", `Bearer ${options.apiKey}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl, interceptors: [auth, ...(options.interceptors ?? [])] });
  return createClient(service, transport);
}
