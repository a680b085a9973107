import { create, fromBinary, toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/**
 * gRPC server reflection (v1 and v1alpha, which are wire-identical) answered from the generated
 * descriptors, so `grpcurl -plaintext host:port list` works with no .proto files at hand.
 * No npm library serves reflection for connect-node (see DESIGN.md, stack decisions).
 */
interface ReflectionIndex {
  services: string[];
  byFileName: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
}

function buildIndex(services: DescService[]): ReflectionIndex {
  const byFileName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  const addMessage = (file: DescFile, message: DescMessage) => {
    bySymbol.set(message.typeName, file);
    for (const field of message.fields) bySymbol.set(`${message.typeName}.${field.name}`, file);
    for (const nested of message.nestedMessages) addMessage(file, nested);
    for (const nested of message.nestedEnums) bySymbol.set(nested.typeName, file);
    for (const ext of message.nestedExtensions) bySymbol.set(ext.typeName, file);
  };
  const addFile = (file: DescFile) => {
    if (byFileName.has(file.name + ".proto")) return;
    byFileName.set(file.name + ".proto", file);
    for (const message of file.messages) addMessage(file, message);
    for (const e of file.enums) bySymbol.set(e.typeName, file);
    for (const ext of file.extensions) bySymbol.set(ext.typeName, file);
    for (const service of file.services) {
      bySymbol.set(service.typeName, file);
      for (const method of service.methods) bySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    for (const dep of file.dependencies) addFile(dep);
  };
  for (const service of services) addFile(service.file);
  return { services: services.map((s) => s.typeName), byFileName, bySymbol };
}

/** The file and everything it imports, dependencies first, each once. */
function withDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const dep of f.dependencies) visit(dep);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
  };
  visit(file);
  return out;
}

type Request = v1.ServerReflectionRequest;
type Response = v1.ServerReflectionResponse;

function answer(index: ReflectionIndex, req: Request): Response {
  const base = { validHost: req.host, originalRequest: req };
  const files = (file: DescFile | undefined, what: string): Response =>
    file
      ? create(v1.ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } },
        })
      : create(v1.ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "errorResponse", value: { errorCode: 5, errorMessage: `${what} not found` } },
        });
  const request = req.messageRequest;
  switch (request.case) {
    case "listServices":
      return create(v1.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } },
      });
    case "fileByFilename":
      return files(index.byFileName.get(request.value), `file "${request.value}"`);
    case "fileContainingSymbol":
      return files(index.bySymbol.get(request.value.replace(/^\./, "")), `symbol "${request.value}"`);
    case "fileContainingExtension":
      return files(undefined, `extension ${request.value.extensionNumber} of "${request.value.containingType}"`);
    case "allExtensionNumbersOfType":
      return create(v1.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: [] } },
      });
    default:
      return create(v1.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: { case: "errorResponse", value: { errorCode: 3, errorMessage: "empty reflection request" } },
      });
  }
}

export function registerReflection(router: ConnectRouter, services: DescService[]): void {
  const index = buildIndex([...services, v1.ServerReflection, v1alpha.ServerReflection]);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answer(index, req);
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        // same field numbers: re-encode through v1 rather than duplicating the logic
        const asV1 = fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, req));
        const reply = answer(index, asV1);
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, reply));
      }
    },
  });
}
