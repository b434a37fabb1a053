// certrevoked on the system bus, as the logged-in user: the page holds no
// authority of its own, and every call is judged by the daemon from the
// caller's UID.

import cockpit from "./cockpit.js";

const BUS_NAME = "org.certrevoke1";
const MANAGER_PATH = "/org/certrevoke1";
const MANAGER = "org.certrevoke1.Manager";
const USER = "org.certrevoke1.User";
const OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager";

function value(props, name, fallback) {
    return props[name] ? props[name].v : fallback;
}

function userFromProperties(path, props) {
    return {
        path,
        login: value(props, "LoginId", ""),
        name: value(props, "Name", ""),
        role: value(props, "Role", ""),
        uid: value(props, "Uid", 0),
        state: value(props, "CertificateState", ""),
        serial: value(props, "CertificateSerial", ""),
        subject: value(props, "CertificateSubject", ""),
        notAfter: value(props, "CertificateNotAfter", 0),
        revokedAt: value(props, "RevokedAt", 0),
        reason: value(props, "RevocationReason", ""),
        suspended: value(props, "Suspended", false),
    };
}

export class Service {
    constructor() {
        this.client = cockpit.dbus(BUS_NAME, { bus: "system" });
    }

    close() {
        this.client.close();
    }

    call(method, signature, args) {
        return this.client.call(MANAGER_PATH, MANAGER, method, args, { type: signature });
    }

    // Every user the caller may see, with every property, sorted by login.
    async users() {
        const [objects] = await this.client.call(MANAGER_PATH, OBJECT_MANAGER, "GetManagedObjects", []);
        const users = [];
        for (const path of Object.keys(objects)) {
            const props = objects[path][USER];
            if (props)
                users.push(userFromProperties(path, props));
        }
        users.sort((a, b) => a.login.localeCompare(b.login));
        return users;
    }

    async user(login) {
        const [path] = await this.call("GetUser", "s", [login]);
        const [props] = await this.client.call(path, "org.freedesktop.DBus.Properties", "GetAll", [USER]);
        return userFromProperties(path, props);
    }

    async crlNumber() {
        const [v] = await this.client.call(MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get",
                                           [MANAGER, "CRLNumber"]);
        return v.v;
    }

    // The password goes into the call and nowhere else.
    async revoke(login, serial, reason, password) {
        const [[id, name, state]] = await this.call("RevokeCertificate", "ssss", [login, serial, reason, password]);
        return { login: id, name, state };
    }

    addUser(login, name, role, uid) {
        return this.call("AddUser", "sssu", [login, name, role, uid]);
    }

    removeUser(login) {
        return this.call("RemoveUser", "s", [login]);
    }

    setRole(login, role) {
        return this.call("SetUserRole", "ss", [login, role]);
    }

    suspend(login, password) {
        return this.call("SuspendUser", "ss", [login, password]);
    }

    resume(login, password) {
        return this.call("ResumeUser", "ss", [login, password]);
    }

    changePassword(oldPassword, newPassword) {
        return this.call("ChangeConfirmationPassword", "ss", [oldPassword, newPassword]);
    }

    setPassword(login, newPassword, password) {
        return this.call("SetConfirmationPassword", "sss", [login, newPassword, password]);
    }

    // The history, oldest first: { time, actor, action, target, result }.
    async history(login, sinceUsec, limit) {
        const [rows] = await this.call("GetHistory", "stu", [login, sinceUsec, limit]);
        return rows.map(([time, actor, action, target, result]) => ({ time, actor, action, target, result }));
    }

    // Calls back on any change the daemon announces: a property of a user,
    // a user added or removed, a revocation.  Returns the unsubscriber.
    // The bus hands these signals only to root and the group certrevoke.
    subscribe(callback) {
        const subscriptions = [
            this.client.subscribe({ interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged" },
                                  callback),
            this.client.subscribe({ interface: OBJECT_MANAGER }, callback),
            this.client.subscribe({ interface: MANAGER, member: "CertificateRevoked" }, callback),
        ];
        return () => subscriptions.forEach(s => s.remove());
    }
}

// Who is logged in, as certrevoke knows them: UID 0 is the master user
// root; any other UID is the user whose Uid it is, or nobody.
export async function whoAmI(users) {
    const me = await cockpit.user();
    if (me.id === 0)
        return { login: "root", name: "root", role: "master", uid: 0 };
    const found = users.find(u => u.uid === me.id);
    if (!found)
        return { login: null, name: me.name, role: null, uid: me.id };
    return { login: found.login, name: found.name, role: found.role, uid: me.id, suspended: found.suspended };
}

export function isManager(session) {
    return session.role === "master" || session.role === "admin";
}
