// compose.yaml: MongoDB's image runs this once, as the administrator, when its data volume is new.
// One user per service, allowed readWrite on its own database (allies_<service>) and nothing else
// (docs/security.md, "Store users"). For a volume made before store users existed, run it by hand:
//   docker compose exec mongo sh -c 'mongosh -u root -p "$MONGO_INITDB_ROOT_PASSWORD" \
//     --authenticationDatabase admin /docker-entrypoint-initdb.d/allies-users.js'
const admin = db.getSiblingDB("admin");
for (const service of ["profiles", "requests", "matching", "notify", "search", "campaigns"]) {
  const key = `MONGO_PASSWORD_${service.toUpperCase()}`;
  const password = process.env[key];
  if (!password) throw new Error(`${key} is not set`);
  const roles = [{role: "readWrite", db: `allies_${service}`}];
  if (admin.getUser(service)) admin.updateUser(service, {pwd: password, roles: roles});
  else admin.createUser({user: service, pwd: password, roles: roles});
  print(`user ${service}: readWrite on allies_${service} only`);
}
