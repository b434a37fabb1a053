// A masked, labelled password input.  Its value lives in the state of the
// screen that owns it and goes nowhere but into that screen's call: no
// browser autofill or saving, nothing in the URL or storage.

import React from "react";
import { FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput } from "@patternfly/react-core";

import { _ } from "./i18n.js";

export function PasswordField({ id, label, value, onChange, isRequired, missing, autoFocus }) {
    const helpId = `${id}-help`;
    return (
        <FormGroup label={label} fieldId={id} isRequired={isRequired}>
            <TextInput id={id} type="password" value={value} autoComplete="off" autoFocus={autoFocus}
                       isRequired={isRequired} validated={missing ? "error" : "default"}
                       aria-describedby={missing ? helpId : undefined}
                       onChange={(_event, v) => onChange(v)} />
            {missing &&
                <FormHelperText>
                    <HelperText id={helpId}>
                        <HelperTextItem variant="error">{_("Enter the password.")}</HelperTextItem>
                    </HelperText>
                </FormHelperText>}
        </FormGroup>
    );
}
