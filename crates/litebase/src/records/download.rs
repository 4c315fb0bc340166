//! Which record and field a file download (`GET /api/files/…`) is for, and
//! whether the requester may have it: files of non-protected fields are public
//! (their names are unguessable), as in PocketBase; files of protected fields
//! need a file token whose record the collection's view rule lets see the
//! record (superusers always may).

use serde_json::Map;

use super::error::RecordError;
use super::read::{ReadCtx, one_by_rule};
use super::service::Records;
use super::{rules, value, write};
use crate::auth::request::Auth;
use crate::auth::token::Purpose;
use crate::schema::{CollectionType, Field, FieldKind};

/// The file a download asked for, once found and allowed.
#[derive(Debug, Clone)]
pub struct FileTarget {
    /// The record's collection id (the storage folder).
    pub collection_id: String,
    /// The record's id.
    pub record_id: String,
    /// The file field naming the file (its `thumbs` say which thumbs exist).
    pub field: Field,
}

impl Records {
    /// Finds the file `filename` of record `record_id` of `collection` (name or
    /// id), checking a protected field's view rule as the owner of `token` (a
    /// file token). Every refusal is a 404, so nothing tells a hidden file from
    /// a missing one.
    pub async fn file_for_download(
        &self,
        collection: &str,
        record_id: String,
        filename: String,
        token: &str,
    ) -> Result<FileTarget, RecordError> {
        let schema = self.schema.current();
        let c = schema
            .get(collection)
            .cloned()
            .filter(|c| c.kind != CollectionType::View)
            .ok_or_else(RecordError::not_found)?;
        if record_id.is_empty() || !crate::files::name::is_safe(&filename) {
            return Err(RecordError::not_found());
        }
        let (c2, id) = (c.clone(), record_id.clone());
        let record = self
            .db
            .read(move |conn| write::load(conn, &c2, &id))
            .await?
            .ok_or_else(RecordError::not_found)?;
        let field = c
            .fields
            .iter()
            .find(|f| {
                matches!(f.kind, FieldKind::File { .. })
                    && record
                        .get(&f.name)
                        .is_some_and(|v| value::file_names(v).contains(&filename))
            })
            .cloned()
            .ok_or_else(RecordError::not_found)?;
        let protected = matches!(
            field.kind,
            FieldKind::File {
                protected: true,
                ..
            }
        );
        if protected {
            let auth = self.resolve_as(token, Purpose::File).await;
            if !auth.is_superuser() {
                self.check_view_rule(&schema, c.clone(), record_id.clone(), auth)
                    .await?;
            }
        }
        Ok(FileTarget {
            collection_id: c.id.clone(),
            record_id,
            field,
        })
    }

    async fn check_view_rule(
        &self,
        schema: &std::sync::Arc<crate::schema::Schema>,
        c: std::sync::Arc<crate::schema::Collection>,
        id: String,
        auth: Auth,
    ) -> Result<(), RecordError> {
        let mut info = rules::request_info(&auth, "GET", Map::new(), Map::new(), Map::new());
        info.context = "protectedFile".into();
        let schema = schema.clone();
        self.db
            .read(move |conn| {
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser: false,
                };
                one_by_rule(conn, &ctx, &c, c.view_rule.as_deref(), &id, false).map(|_| ())
            })
            .await
            .map_err(|_| RecordError::not_found())
    }
}
