//! Emit stage for the glue: the crate's `Client` (a wrapper around the runtime's, which the
//! generated methods extend), the list of its APIs and the `Glue` the runtime reads them from.
//! Translates `ir::GluePlan`; decides nothing.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{FieldRead, GluePlan};

/// The glue items of `mod.rs`. `rt` is the runtime's path.
pub fn emit_glue(plan: &GluePlan, client_modules: &[String], rt: &TokenStream) -> TokenStream {
    let apis = client_modules.iter().map(|m| {
        let ident = format_ident!("{}", m);
        quote! { &#ident::API }
    });
    let (check, check_fn) = match &plan.merchant_check {
        Some((module, ty)) => {
            let module = format_ident!("{}", module);
            let ty = format_ident!("{}", ty);
            let doc = format!(" The merchant serial number's rules: those of `{module}::{ty}`.");
            (
                quote! { Some(check_merchant_serial_number) },
                quote! {
                    #[doc = #doc]
                    fn check_merchant_serial_number(value: &str) -> Result<(), String> {
                        #module::#ty::new(value).map(drop).map_err(|error| error.to_string())
                    }
                },
            )
        }
        None => (quote! { None }, TokenStream::new()),
    };
    let (fetch, fetch_fn) = match &plan.token {
        Some(token) => {
            let module = format_ident!("{}", token.client_module);
            let method = format_ident!("{}", token.fn_name);
            let info = format_ident!("{}", token.static_name);
            let access_token = text(&token.access_token);
            let expires_in = token.expires_in.as_ref().map_or_else(|| quote! { None }, optional_text);
            let expires_on = token.expires_on.as_ref().map_or_else(|| quote! { None }, optional_text);
            let doc = format!(" Fetches an access token with `{}` (the settings' token operation).", token.fn_name);
            (
                quote! { Some(fetch_token) },
                quote! {
                    #[doc = #doc]
                    #[allow(deprecated)]
                    fn fetch_token(client: &#rt::Client, options: #rt::CallOptions) -> #rt::TokenFuture<'_> {
                        Box::pin(async move {
                            let answer = Client(client.clone()).#method(options).await?;
                            Ok(#rt::TokenGrant {
                                operation: #module::#info.id,
                                access_token: #access_token,
                                expires_in: #expires_in,
                                expires_on: #expires_on,
                            })
                        })
                    }
                },
            )
        }
        None => (quote! { None }, TokenStream::new()),
    };
    let uses_subscription_key = plan.uses_subscription_key;
    quote! {
        /// Every API the client calls, in settings order.
        pub(crate) static APIS: &[&#rt::ApiInfo] = &[#(#apis),*];

        /// What the runtime needs to know about this crate's documents.
        pub static GLUE: #rt::Glue = #rt::Glue {
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
            apis: APIS,
            check_merchant_serial_number: #check,
            fetch_token: #fetch,
            uses_subscription_key: #uses_subscription_key,
        };

        #check_fn
        #fetch_fn

        /// The client of this crate's APIs: one method per operation (the `*_client` modules) on
        /// the runtime's client engine, which it derefs to. Cheap to clone (clones share the
        /// connection pool, the token cache and the idempotency record); `Debug` shows no secret.
        #[derive(Debug, Clone)]
        pub struct Client(#rt::Client);

        /// Configures a [`Client`]: `Client::builder()`.
        pub type ClientBuilder = #rt::ClientBuilder<Client>;

        impl Client {
            /// Starts configuring a client.
            pub fn builder() -> ClientBuilder {
                #rt::ClientBuilder::new(&GLUE, Client)
            }

            /// A handle whose calls are made for the merchant `msn` (a partner serving many
            /// merchants with one set of keys), sharing everything else with `self`; see
            /// the runtime's `Client::for_merchant`.
            pub fn for_merchant(&self, msn: impl Into<String>) -> Result<Client, #rt::Error> {
                self.0.for_merchant(msn).map(Client)
            }

            /// The runtime's client under this one.
            pub fn runtime(&self) -> &#rt::Client {
                &self.0
            }
        }

        impl std::ops::Deref for Client {
            type Target = #rt::Client;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    }
}

fn text(field: &FieldRead) -> TokenStream {
    let name = format_ident!("{}", field.name);
    if field.optional {
        quote! { answer.#name.as_ref().map(ToString::to_string).unwrap_or_default() }
    } else {
        quote! { answer.#name.to_string() }
    }
}

fn optional_text(field: &FieldRead) -> TokenStream {
    let name = format_ident!("{}", field.name);
    if field.optional {
        quote! { answer.#name.as_ref().map(ToString::to_string) }
    } else {
        quote! { Some(answer.#name.to_string()) }
    }
}
