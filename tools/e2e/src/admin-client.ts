// The admin API as an operator's program uses it: the ts-proto AdminService client over grpc-js, with the
// bearer token in the metadata, one promise per call.
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import { AdminServiceClient } from '@smshub/contracts';

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

// The request and response types of a unary AdminService method (inferred from its last overload, the
// one with metadata and call options).
type RequestOf<M> = M extends Unary<infer Req, infer _Res> ? Req : never;
type ResponseOf<M> = M extends Unary<infer _Req, infer Res> ? Res : never;

/** AdminService's RPC methods (not grpc-js's Client methods). */
type Method = Exclude<keyof AdminServiceClient, keyof Client>;

export class AdminApi {
  private readonly client: AdminServiceClient;

  constructor(
    address: string,
    private readonly token: string,
  ) {
    this.client = new AdminServiceClient(address, credentials.createInsecure());
  }

  /** Calls `method` with `request`; rejects with the grpc ServiceError (code, details). */
  call<M extends Method>(
    method: M,
    request: RequestOf<AdminServiceClient[M]>,
  ): Promise<ResponseOf<AdminServiceClient[M]>> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.token}`);
    const fn = this.client[method] as unknown as Unary<
      RequestOf<AdminServiceClient[M]>,
      ResponseOf<AdminServiceClient[M]>
    >;
    return new Promise((resolve, reject) =>
      fn.call(this.client, request, md, { deadline: Date.now() + 15_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
