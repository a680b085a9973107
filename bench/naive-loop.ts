// The naive baseline: what a first version of this product would do. One process walks accounts →
// locations → reviews pages with the googleapis clients, one request at a time, no queue, no
// retries of its own (googleapis's defaults), no storage. It is timed against the pipeline.
import { mybusinessaccountmanagement } from "@googleapis/mybusinessaccountmanagement";
import { mybusinessbusinessinformation } from "@googleapis/mybusinessbusinessinformation";
import { OAuth2Client } from "google-auth-library";

export interface NaiveResult {
  reviews: number;
  locations: number;
  requests: number;
  ms: number;
}

interface ReviewsPage {
  reviews?: unknown[];
  nextPageToken?: string;
}

/** Fetches every review the access token can see, sequentially. `googleUrl` is Google's (or the emulator's) origin. */
export async function naiveFetchAll(googleUrl: string, accessToken: string): Promise<NaiveResult> {
  const started = performance.now();
  const root = `${googleUrl.replace(/\/+$/, "")}/`;
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: accessToken });
  // the googleapis packages bundle their own google-auth-library typings: the client is the same at run time
  const accountsApi = mybusinessaccountmanagement({ version: "v1", rootUrl: root, auth: auth as never });
  const locationsApi = mybusinessbusinessinformation({ version: "v1", rootUrl: root, auth: auth as never });
  const result: NaiveResult = { reviews: 0, locations: 0, requests: 0, ms: 0 };

  let accountsPage: string | undefined;
  do {
    const accounts = await accountsApi.accounts.list({ pageSize: 20, pageToken: accountsPage });
    result.requests++;
    for (const account of accounts.data.accounts ?? []) {
      let locationsPage: string | undefined;
      do {
        const locations = await locationsApi.accounts.locations.list({
          parent: account.name!,
          readMask: "name,title",
          pageSize: 100,
          pageToken: locationsPage,
        });
        result.requests++;
        for (const location of locations.data.locations ?? []) {
          result.locations++;
          // Business Information names a location `locations/{l}`; the v4 reviews API wants it under its account
          const v4Name = `${account.name}/${location.name}`;
          let reviewsPage: string | undefined;
          do {
            const reviews = await auth.request<ReviewsPage>({
              url: `${root}v4/${v4Name}/reviews`,
              params: { pageSize: 50, ...(reviewsPage ? { pageToken: reviewsPage } : {}) },
            });
            result.requests++;
            result.reviews += reviews.data.reviews?.length ?? 0;
            reviewsPage = reviews.data.nextPageToken;
          } while (reviewsPage);
        }
        locationsPage = locations.data.nextPageToken ?? undefined;
      } while (locationsPage);
    }
    accountsPage = accounts.data.nextPageToken ?? undefined;
  } while (accountsPage);

  result.ms = performance.now() - started;
  return result;
}
